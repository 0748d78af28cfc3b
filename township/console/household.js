// #/household/ID: the resident, contacts, devices, 30-day charts, alert history with handling
// records, and visits. A household outside the user's scope answers 404, shown as a refusal.

import { get } from './api.js';
import {
  el, ageNode, dateTime, fullDate, kindLabel, severityLabel, stateLabel, shortDate,
  ROLE_LABELS, DEVICE_KIND_LABELS, PROBLEM_LABELS,
} from './util.js';
import { dailyChart } from './charts.js';
import { handlingList } from './board.js';

const RISK_CLASS = { 高风险: 'risk-high', 重点: 'risk-mid', 一般: 'risk-low' };

function section(title, testid, ...children) {
  return el('section', { class: 'panel', testid }, el('h2', { class: 'panel-title' }, title), ...children);
}

function refused(main, id) {
  main.appendChild(el('section', { class: 'page-message', testid: 'household-refused' },
    el('h1', {}, '无法查看该户'),
    el('p', {}, `未找到编号为“${id}”的户，或该户不在您负责的范围内。`),
    el('p', {}, el('a', { href: '#/board', class: 'btn' }, '返回告警'))));
}

function batteryCell(battery) {
  if (typeof battery !== 'number') return el('td', { class: 'muted' }, '—');
  const level = battery <= 20 ? 'low' : battery <= 40 ? 'mid' : 'ok';
  return el('td', {},
    el('span', { class: `battery battery-${level}`, title: `${battery}%` },
      el('span', { class: 'battery-fill', style: `width:${Math.max(0, Math.min(100, battery))}%` })),
    ` ${battery}%`);
}

function devicesTable(devices) {
  if (!devices || devices.length === 0) return el('p', { class: 'muted' }, '暂无设备信息');
  return el('div', { class: 'table-wrap' }, el('table', { class: 'table', testid: 'device-table' },
    el('thead', {}, el('tr', {}, ['设备', '类型', '状态', '电量', '最近上报'].map((h) => el('th', {}, h)))),
    el('tbody', {}, devices.map((d) => el('tr', { class: d.problem ? 'row-problem' : '', testid: 'device-row' },
      el('td', {}, d.device),
      el('td', {}, DEVICE_KIND_LABELS[d.kind] || d.kind || '—'),
      el('td', {}, d.problem
        ? el('span', { class: 'tag tag-warn' }, `${PROBLEM_LABELS[d.problem] || d.problem}${d.problem_since ? ` · 自${dateTime(d.problem_since)}` : ''}`)
        : d.online === false ? el('span', { class: 'tag tag-warn' }, '离线') : el('span', { class: 'tag tag-ok' }, '正常')),
      batteryCell(d.battery),
      el('td', {}, typeof d.last_seen === 'number' ? ageNode(d.last_seen) : '—'))))));
}

function alertHistory(alerts) {
  if (!alerts || alerts.length === 0) return el('p', { class: 'muted', testid: 'alert-history-empty' }, '没有告警记录');
  return el('ol', { class: 'history-list', testid: 'alert-history' }, alerts.map((a) => {
    const names = {};
    for (const e of a.escalation || []) if (e.contact_id && e.name) names[e.contact_id] = e.name;
    const records = handlingList(a, names, 'history-handling');
    return el('li', { class: `history-item sev-${a.severity}`, testid: 'history-alert', dataset: { alertId: a.alert_id } },
      el('details', {},
        el('summary', {},
          el('span', { class: `sev-badge sev-badge-${a.severity}` }, severityLabel(a)),
          el('span', { class: 'history-kind' }, kindLabel(a)),
          a.location ? el('span', { class: 'muted' }, a.location) : null,
          el('span', { class: `state-badge state-badge-${a.state}` }, stateLabel(a)),
          el('span', { class: 'muted small history-time' }, fullDate(a.raised_at))),
        records || el('p', { class: 'muted small' }, '没有处理记录')));
  }));
}

const ASPECTS = ['健康', '经济', '赡养扶养', '居家安全隐患', '服务需求'];

function visitList(visits) {
  if (!visits || visits.length === 0) return el('p', { class: 'muted', testid: 'visit-list-empty' }, '还没有探访记录');
  const item = (v) =>
    el('li', { class: 'visit-item', testid: 'visit-item' },
      el('div', { class: 'visit-head' },
        el('strong', {}, shortDate(v.date)),
        el('span', { class: 'tag' }, v.type),
        el('span', { class: 'muted small' }, v.visitor || v.created_by || '')),
      el('dl', { class: 'aspects' }, ASPECTS.filter((k) => v.aspects && v.aspects[k]).map((k) => [
        el('dt', {}, k), el('dd', {}, v.aspects[k]),
      ])),
      v.note ? el('p', { class: 'visit-note' }, v.note) : null);
  const SHOWN = 5;
  return el('div', {},
    el('ol', { class: 'visit-list', testid: 'visit-list' }, visits.slice(0, SHOWN).map(item)),
    visits.length > SHOWN
      ? el('details', { class: 'more' }, el('summary', {}, `显示更早的 ${visits.length - SHOWN} 条记录`),
        el('ol', { class: 'visit-list' }, visits.slice(SHOWN, 100).map(item)))
      : null);
}

export async function render(main, ctx, params) {
  const id = params[0] || '';
  main.appendChild(el('p', { class: 'muted loading' }, '正在加载该户信息…'));
  let household;
  try {
    household = await get(`/api/households/${encodeURIComponent(id)}`);
  } catch (e) {
    main.replaceChildren();
    if (e.status === 404 || e.status === 400 || e.status === 403) refused(main, id);
    else main.appendChild(el('p', { class: 'form-error', role: 'alert' }, `加载失败：${e.message}`));
    return null;
  }
  const [daily, visits] = await Promise.all([
    get(`/api/households/${encodeURIComponent(id)}/daily?days=30`).catch((e) => ({ error: e })),
    get(`/api/households/${encodeURIComponent(id)}/visits`).catch(() => []),
  ]);
  main.replaceChildren();

  const hub = household.hub || null;
  const silent = [...ctx.alerts.values()].some((a) => a.household === id && a.kind === 'hub_silent');
  const hubStatus = silent ? el('span', { class: 'tag tag-warn', testid: 'hub-status' }, '网关失联')
    : hub && hub.status === 'online' ? el('span', { class: 'tag tag-ok' }, '网关在线')
    : hub && hub.status ? el('span', { class: 'tag tag-warn' }, hub.status === 'silent' ? '网关失联' : '网关离线')
      : el('span', { class: 'tag' }, household.hub_id ? '网关状态未知' : '未安装网关');
  const contacts = household.contacts || [];

  const charts = el('div', { class: 'chart-grid', testid: 'charts' });
  const CHARTS = [
    { key: 'water_l', title: '每日用水', unit: '升', decimals: 0, testid: 'chart-water' },
    { key: 'energy_kwh', title: '每日用电', unit: '千瓦时', decimals: 1, testid: 'chart-energy' },
    { key: 'activity_events', title: '每日活动次数', unit: '次', decimals: 0, testid: 'chart-activity' },
  ];
  const slots = [];
  if (daily && daily.error) {
    charts.appendChild(el('p', { class: 'muted' }, `每日汇总暂不可用：${daily.error.message}`));
  } else {
    for (const spec of CHARTS) {
      const slot = el('div', { class: 'chart-slot' });
      slots.push([slot, spec]);
      charts.appendChild(slot);
    }
  }
  // Drawn once the slots have their width, and again when the window changes size.
  const days = (daily && daily.days) || [];
  const draw = () => {
    for (const [slot, spec] of slots) {
      slot.replaceChildren(dailyChart({ days, ...spec, width: slot.clientWidth - 2 }));
    }
  };
  let resizeTimer = null;
  let lastWidth = 0;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (charts.clientWidth !== lastWidth) { lastWidth = charts.clientWidth; draw(); }
    }, 150);
  };

  const active = [...ctx.alerts.values()].filter((a) => a.household === id);
  main.appendChild(el('div', { class: 'page household', testid: 'household-page', dataset: { household: id } },
    el('p', { class: 'breadcrumb' }, el('a', { href: '#/board' }, '‹ 返回告警')),
    el('header', { class: 'household-head' },
      el('div', {},
        el('h1', { testid: 'household-name' }, household.display_name || id),
        el('p', { class: 'muted' }, [household.township, household.village].filter(Boolean).join(' · '),
          household.address ? ` · ${household.address}` : '')),
      el('div', { class: 'head-tags' },
        household.risk_class ? el('span', { class: `tag ${RISK_CLASS[household.risk_class] || ''}`, testid: 'risk-class' }, household.risk_class) : null,
        hubStatus,
        hub && hub.last_seen_at ? el('span', { class: 'muted small' }, '网关最近联系 ', ageNode(hub.last_seen_at)) : null)),
    active.length ? el('p', { class: 'notice notice-urgent', testid: 'household-active' },
      `该户有 ${active.length} 条未解除的告警：`, el('a', { href: '#/board' }, '到告警页处理')) : null,
    el('div', { class: 'grid-2' },
      section('联系人', 'contacts',
        contacts.length === 0 ? el('p', { class: 'muted' }, '未登记联系人')
          : el('ul', { class: 'contact-list' }, contacts.map((c) => el('li', { testid: 'contact' },
            el('span', { class: 'contact-role' }, ROLE_LABELS[c.role] || c.role),
            el('strong', {}, c.name || c.contact_id),
            c.phone ? el('a', { href: `tel:${c.phone}`, class: 'phone' }, c.phone) : null)))),
      section('设备', 'devices', devicesTable(household.devices))),
    section('近30天生活规律', 'charts-section', charts),
    el('div', { class: 'grid-2' },
      section('告警记录', 'alerts-section', alertHistory(household.alerts)),
      section('探访记录', 'visits-section',
        el('p', {}, el('a', { class: 'btn', href: `#/visits/${encodeURIComponent(id)}`, testid: 'record-visit-link' }, '记录一次探访')),
        visitList(visits)))));
  lastWidth = charts.clientWidth;
  draw();
  window.addEventListener('resize', onResize);
  return () => {
    window.removeEventListener('resize', onResize);
    clearTimeout(resizeTimer);
  };
}
