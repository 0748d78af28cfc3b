// #/health: silent or offline hubs, offline devices and low batteries across the user's scope,
// each with the date it went wrong; reloaded when the live connection reports a health change.

import { get } from './api.js';
import { el, clear, ageNode, fullDate, DEVICE_KIND_LABELS, PROBLEM_LABELS } from './util.js';

function householdLink(row) {
  return el('a', { href: `#/household/${encodeURIComponent(row.household)}` }, row.display_name || row.household);
}

function stat(label, ok, total, testid) {
  const bad = total - ok;
  return el('div', { class: `stat ${bad > 0 ? 'stat-warn' : 'stat-ok'}`, testid },
    el('span', { class: 'stat-value' }, `${ok} / ${total}`),
    el('span', { class: 'stat-label' }, label),
    el('span', { class: 'small' }, bad > 0 ? `${bad} 个需要处理` : '全部正常'));
}

export function render(main, ctx) {
  const body = el('div', { class: 'health-body' }, el('p', { class: 'muted' }, '正在加载…'));
  main.appendChild(el('section', { class: 'page', testid: 'health-page' },
    el('div', { class: 'page-head' }, el('h1', {}, '设备健康'),
      el('p', { class: 'muted' }, '网关失联、设备离线和电量低的情况，最早出现的排在前面。')),
    body));

  let timer = null;
  async function load() {
    let data;
    try {
      data = await get('/api/health');
    } catch (e) {
      clear(body).appendChild(el('p', { class: 'form-error', role: 'alert' }, `加载失败：${e.message}`));
      return;
    }
    const counts = data.counts || {};
    const hubs = data.hubs || [];
    const devices = data.devices || [];
    clear(body).append(
      el('div', { class: 'stats' },
        stat('网关正常', counts.hubs_ok ?? 0, counts.hubs ?? 0, 'stat-hubs'),
        stat('设备正常', counts.devices_ok ?? 0, counts.devices ?? 0, 'stat-devices')),
      el('section', { class: 'panel', testid: 'health-hubs' },
        el('h2', { class: 'panel-title' }, `失联或离线的网关（${hubs.length}）`),
        hubs.length === 0 ? el('p', { class: 'ok-line' }, '✓ 所有网关都在按时联系')
          : el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
            el('thead', {}, el('tr', {}, ['户', '村', '网关', '状态', '开始时间', '已持续'].map((h) => el('th', {}, h)))),
            el('tbody', {}, hubs.map((h) => el('tr', { testid: 'health-hub-row' },
              el('td', {}, householdLink(h)), el('td', {}, h.village || ''), el('td', {}, h.hub_id),
              el('td', {}, el('span', { class: 'tag tag-warn' }, PROBLEM_LABELS[h.status] || h.status)),
              el('td', {}, fullDate(h.since)), el('td', {}, ageNode(h.since)))))))),
      el('section', { class: 'panel', testid: 'health-devices' },
        el('h2', { class: 'panel-title' }, `离线或电量低的设备（${devices.length}）`),
        devices.length === 0 ? el('p', { class: 'ok-line' }, '✓ 没有离线或电量低的设备')
          : el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
            el('thead', {}, el('tr', {}, ['户', '村', '设备', '问题', '电量', '开始时间'].map((h) => el('th', {}, h)))),
            el('tbody', {}, devices.map((d) => el('tr', { testid: 'health-device-row' },
              el('td', {}, householdLink(d)), el('td', {}, d.village || ''),
              el('td', {}, `${d.device}`, el('span', { class: 'muted small' }, ` ${DEVICE_KIND_LABELS[d.kind] || d.kind || ''}`)),
              el('td', {}, el('span', { class: `tag ${d.problem === 'offline' ? 'tag-warn' : 'tag-amber'}` }, PROBLEM_LABELS[d.problem] || d.problem)),
              el('td', {}, typeof d.battery === 'number' ? `${d.battery}%` : '—'),
              el('td', {}, fullDate(d.since), el('br'), ageNode(d.since, { class: 'age small muted' })))))))));
  }

  const listener = (kind) => {
    if (kind !== 'health') return;
    clearTimeout(timer);
    timer = setTimeout(load, 300); // several changes at once: one reload
  };
  ctx.listeners.add(listener);
  load();
  return () => {
    ctx.listeners.delete(listener);
    clearTimeout(timer);
  };
}
