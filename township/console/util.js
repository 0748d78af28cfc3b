// Small helpers shared by the console's pages: DOM building, zh-CN labels and time formatting.
// Every text a person reads is set with textContent (never innerHTML), so data cannot inject markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'style') node.style.cssText = value; // CSSOM: fine under a CSP without 'unsafe-inline'
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'testid') node.setAttribute('data-testid', value);
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// ---- labels (the server sends *_label too; these are the fallback and the lookups it lacks) ----

export const KIND_LABELS = {
  smoke: '烟雾报警',
  gas: '燃气泄漏',
  co: '一氧化碳报警',
  water_leak: '漏水',
  call: '紧急呼叫',
  no_water: '长时间未用水',
  inactivity: '长时间无活动',
  routine_deviation: '作息异常',
  water_running: '长时间流水',
  power_running: '电器长时间大功率',
  night_door: '夜间开门',
  temperature: '室温异常',
  device_offline: '设备离线',
  device_fault: '设备故障',
  low_battery: '电池电量低',
  tamper: '设备被拆动',
  hub_offline: '网关离线',
  storage_full: '网关存储空间不足',
  hub_silent: '网关失联',
};

export const SEVERITY_LABELS = { emergency: '紧急', warning: '警告', info: '提示' };
export const SEVERITY_RANK = { emergency: 0, warning: 1, info: 2 };
export const STATE_LABELS = { open: '待处理', acknowledged: '已确认', resolved: '已解除' };

export const ROLE_LABELS = {
  caregiver: '照料人',
  emergency_contact: '紧急联系人',
  duty_desk: '值班台',
  township_operator: '乡镇值班员',
  county_staff: '县民政工作人员',
};

export const CHANNEL_LABELS = {
  sms: '短信',
  voice: '电话',
  wecom: '企业微信',
  dingtalk: '钉钉',
  webhook: '网络推送',
  mqtt: '应用推送',
  township: '乡镇转发',
  link: '一键链接',
  hub: '网关',
  button: '按键',
  app: '应用',
};

export const NOTIFY_STATE_LABELS = {
  sent: '已发送',
  failed: '发送失败',
  acknowledged: '已确认',
  pending: '发送中',
};

export const EVENT_LABELS = {
  opened: '告警产生',
  acknowledged: '已确认',
  resolved: '已解除',
  repeated: '再次触发',
  condition_cleared: '现场状况已消除',
  condition_returned: '状况再次出现',
  note: '处理记录',
  ack_requested: '值班台确认（已发往网关）',
  resolve_requested: '值班台解除（已发往网关）',
  on_site: '照料人已到场',
  need_help: '照料人请求帮助',
  link_ack: '照料人已知晓',
  link_on_site: '照料人已到场',
  link_need_help: '照料人请求帮助',
  help_requested: '请求值班台支援',
  escalated: '升级通知',
  check_in: '询问居民',
  check_in_ok: '居民回应平安',
};

export const DEVICE_KIND_LABELS = {
  smoke: '烟雾探测器',
  gas: '燃气报警器',
  co: '一氧化碳报警器',
  water_leak: '漏水传感器',
  call_button: '紧急呼叫按钮',
  contact: '门磁',
  motion: '人体感应',
  bed: '床垫传感器',
  water_meter: '水表',
  power_meter: '电表',
  energy_meter: '电表',
  plug: '智能插座',
  temperature: '温湿度计',
};

export const PROBLEM_LABELS = { offline: '离线', low_battery: '电量低', silent: '失联' };

export function kindLabel(alert) {
  return alert.kind_label || KIND_LABELS[alert.kind] || alert.kind || '告警';
}
export function severityLabel(alert) {
  return alert.severity_label || SEVERITY_LABELS[alert.severity] || alert.severity || '';
}
export function stateLabel(alert) {
  return alert.state_label || STATE_LABELS[alert.state] || alert.state || '';
}

// ---- time ----

const pad = (n) => String(n).padStart(2, '0');

export function timeAgo(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return '';
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 10) return '刚刚';
  if (s < 60) return `${s}秒前`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分钟前`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}小时${m % 60 ? `${m % 60}分钟` : ''}前`;
  const d = Math.floor(h / 24);
  return `${d}天前`;
}

export function clock(ms) {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function dateTime(ms) {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return sameDay ? `今天 ${time}` : `${d.getMonth() + 1}月${d.getDate()}日 ${time}`;
}

export function fullDate(ms) {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function isoDate(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function isoMonth(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}

// "2026-11-01" → "11月1日"
export function shortDate(iso) {
  if (!iso) return '';
  const [, m, d] = iso.split('-');
  return `${Number(m)}月${Number(d)}日`;
}

// Marks a node whose text is the age of `ms`; refreshAges() keeps every such node current.
export function ageNode(ms, attrs = {}) {
  const node = el('span', { class: 'age', ...attrs, title: fullDate(ms) }, timeAgo(ms));
  node.dataset.ts = String(ms);
  return node;
}

export function refreshAges(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll('[data-ts]')) {
    const text = timeAgo(Number(node.dataset.ts), now);
    if (node.textContent !== text) node.textContent = text;
  }
}

// A person's display for a handling record's `by`: a contact id, township:USER or link:CONTACT.
export function byLabel(by, names = {}) {
  if (!by) return '';
  if (by.startsWith('township:')) return `值班台 ${by.slice(9)}`;
  if (by.startsWith('link:')) {
    const id = by.slice(5);
    return names[id] || id;
  }
  if (by === 'system') return '系统';
  return names[by] || by;
}
