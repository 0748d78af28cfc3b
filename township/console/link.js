// The caregiver's one-tap page at /c/ALERT/CONTACT/MAC: no password, one alert only.
// GET /api/link/TOKEN for the alert; POST {"action"} for 我已知晓 / 我已到场 / 需要帮助.

import { el, ageNode, fullDate, refreshAges, KIND_LABELS, STATE_LABELS } from './util.js';

const root = document.getElementById('link');
const token = location.pathname.replace(/^\/c\//, '').replace(/\/+$/, '');
const api = `/api/link/${token.split('/').map(encodeURIComponent).join('/')}`;

const ACTIONS = [
  { action: 'ack', label: '我已知晓', hint: '我知道了，会处理', cls: 'link-ack', testid: 'link-ack', done: '已告知值班台：您已知晓。提醒不会再发送给其他人。' },
  { action: 'on_site', label: '我已到场', hint: '我已在老人身边', cls: 'link-onsite', testid: 'link-onsite', done: '已告知值班台：您已到场。谢谢！' },
  { action: 'need_help', label: '需要帮助', hint: '需要值班台支援', cls: 'link-help', testid: 'link-help', done: '值班台已收到您的求助，会尽快联系您。如情况危急请拨打 120 / 119。' },
];

function brand() {
  return el('header', { class: 'link-brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '安'), ' 平安守护');
}

function message(title, text, testid) {
  root.replaceChildren(brand(), el('section', { class: 'link-card', testid },
    el('h1', {}, title), el('p', {}, text)));
}

async function load() {
  let response;
  try {
    response = await fetch(api, { headers: { Accept: 'application/json' }, credentials: 'omit' });
  } catch {
    message('无法连接', '网络不通，请稍后再打开此链接，或直接拨打值班电话。', 'link-error');
    return;
  }
  if (response.status === 404) {
    message('链接无效', '此链接无法识别，请核对短信中的链接。', 'link-invalid');
    return;
  }
  if (response.status === 410) {
    message('告警已结束', '这条告警已经解除或链接已过期，无需再操作。谢谢您的关心！', 'link-expired');
    return;
  }
  if (!response.ok) {
    message('暂时无法打开', `服务暂时不可用（${response.status}），请稍后再试。`, 'link-error');
    return;
  }
  render(await response.json());
}

function render(data) {
  const alert = data.alert || {};
  const done = new Set(data.done || []);
  const actions = new Set(data.actions || ACTIONS.map((a) => a.action));
  const status = el('p', { class: 'link-status', role: 'status', testid: 'link-message', hidden: done.size === 0 });
  if (done.size) {
    const last = ACTIONS.filter((a) => done.has(a.action)).pop();
    status.textContent = last ? last.done : '';
  }
  const buttons = ACTIONS.filter((a) => actions.has(a.action)).map((a) => {
    const button = el('button', {
      type: 'button', class: `link-button ${a.cls}${done.has(a.action) ? ' is-done' : ''}`, testid: a.testid,
    }, el('span', { class: 'link-button-label' }, `${done.has(a.action) ? '✓ ' : ''}${a.label}`),
    el('span', { class: 'link-button-hint' }, a.hint));
    button.addEventListener('click', () => send(a, button, status));
    return button;
  });
  const emergency = alert.severity === 'emergency';
  root.replaceChildren(brand(), el('section', { class: `link-card ${emergency ? 'link-emergency' : ''}`, testid: 'link-alert' },
    el('p', { class: 'link-who' }, alert.display_name || ''),
    el('h1', { class: 'link-kind', testid: 'link-kind' }, alert.kind_label || KIND_LABELS[alert.kind] || '告警'),
    el('p', { class: 'link-where' }, alert.location || '',
      alert.raised_at ? el('span', {}, alert.location ? ' · ' : '', ageNode(alert.raised_at)) : null),
    el('p', { class: 'link-state', testid: 'link-state' },
      el('span', { class: 'link-state-text' }, `状态：${alert.state_label || STATE_LABELS[alert.state] || ''}`),
      alert.raised_at ? el('span', { class: 'muted small' }, `（${fullDate(alert.raised_at)} 发生）`) : null)),
  el('div', { class: 'link-actions' }, buttons),
  status,
  el('p', { class: 'link-foot muted small' }, '情况危急请直接拨打 120（急救）或 119（火警）。'));
}

async function send(action, button, status) {
  const all = root.querySelectorAll('.link-button');
  all.forEach((b) => { b.disabled = true; });
  status.hidden = false;
  status.className = 'link-status';
  status.textContent = '正在发送…';
  try {
    const response = await fetch(api, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'omit',
      body: JSON.stringify({ action: action.action }),
    });
    if (response.status === 410) {
      message('告警已结束', '这条告警已经解除或链接已过期，无需再操作。谢谢您的关心！', 'link-expired');
      return;
    }
    if (!response.ok) {
      let text = `发送失败（${response.status}），请稍后再试或直接拨打值班电话。`;
      try {
        const body = await response.json();
        if (body && body.message) text = body.message;
      } catch {
        // keep the generic text
      }
      throw new Error(text);
    }
    status.classList.add('link-status-ok');
    status.textContent = action.done;
    // The hub reports the acknowledgement back within a second or two: show the new state.
    setTimeout(refreshState, 1500);
    setTimeout(refreshState, 5000);
    button.classList.add('is-done');
    button.querySelector('.link-button-label').textContent = `✓ ${action.label}`;
  } catch (e) {
    status.classList.add('link-status-error');
    status.textContent = e.message && !e.message.startsWith('Failed') ? e.message : '网络不通，请稍后再试或直接拨打值班电话。';
  } finally {
    all.forEach((b) => { b.disabled = false; });
  }
}

async function refreshState() {
  try {
    const response = await fetch(api, { headers: { Accept: 'application/json' }, credentials: 'omit' });
    if (!response.ok) return;
    const alert = (await response.json()).alert || {};
    const node = root.querySelector('.link-state-text');
    if (node) node.textContent = `状态：${alert.state_label || STATE_LABELS[alert.state] || ''}`;
  } catch {
    // keep what is shown
  }
}

setInterval(refreshAges, 1000);
setInterval(() => { if (root.querySelector('.link-state-text')) refreshState(); }, 10000);
load();
