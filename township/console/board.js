// #/board: the live alert board. Active alerts of the user's scope, emergencies (and calls for
// help) first, then newest; each card shows what happened where, how long ago, the escalation so
// far and the handling record, with 确认 / 添加处理记录 / 解除 (解除 asks again).

import { post } from './api.js';
import {
  el, clear, ageNode, clock, dateTime, kindLabel, severityLabel, stateLabel, byLabel,
  ROLE_LABELS, CHANNEL_LABELS, NOTIFY_STATE_LABELS, EVENT_LABELS, SEVERITY_RANK,
} from './util.js';

// UI state that survives re-rendering a card: the open panel, drafts, pending commands.
const ui = new Map(); // alert_id → { panel: null|'note'|'resolve', draft: '', pending: null|'ack'|'resolve', error: '' }
const uiOf = (id) => {
  if (!ui.has(id)) ui.set(id, { panel: null, draft: '', pending: null, error: '' });
  return ui.get(id);
};

const HELP_EVENTS = new Set(['help_requested', 'link_need_help', 'need_help']);

// When the caregiver asked for help through the one-tap link (null if never).
export function helpRequestedAt(alert) {
  if (typeof alert.help_requested_at === 'number') return alert.help_requested_at;
  const record = [...(alert.handling || [])].reverse().find((h) => HELP_EVENTS.has(h.event));
  return record ? record.at : null;
}

// A call for help is urgent until the duty desk records something after it.
export function needsHelp(alert) {
  const at = helpRequestedAt(alert);
  if (at === null || alert.state === 'resolved') return false;
  return !(alert.handling || []).some((h) => h.at > at && typeof h.by === 'string' && h.by.startsWith('township:'));
}

function urgent(alert) {
  return (alert.severity === 'emergency' && alert.state === 'open') || needsHelp(alert);
}

export function sortAlerts(list) {
  return [...list].sort((a, b) => {
    const ua = urgent(a) ? 0 : 1;
    const ub = urgent(b) ? 0 : 1;
    if (ua !== ub) return ua - ub;
    const sa = SEVERITY_RANK[a.severity] ?? 3;
    const sb = SEVERITY_RANK[b.severity] ?? 3;
    if (sa !== sb) return sa - sb;
    const oa = a.state === 'open' ? 0 : 1;
    const ob = b.state === 'open' ? 0 : 1;
    if (oa !== ob) return oa - ob;
    return (b.raised_at || 0) - (a.raised_at || 0);
  });
}

function contactNames(alert) {
  const names = {};
  for (const e of alert.escalation || []) if (e.contact_id && e.name) names[e.contact_id] = e.name;
  return names;
}

function acknowledgement(alert, names) {
  if (alert.state !== 'acknowledged' && !alert.acknowledged_at) return null;
  const record = [...(alert.handling || [])].reverse().find((h) => h.event === 'acknowledged');
  const who = byLabel(alert.acknowledged_by || (record && record.by), names);
  const channel = record && record.channel && record.channel !== 'township'
    ? CHANNEL_LABELS[record.channel] || record.channel : '';
  return { who, channel, at: alert.acknowledged_at || (record && record.at) };
}

function escalationList(alert, names) {
  const all = alert.escalation || [];
  const items = all.map((e) => {
    const person = e.name || names[e.contact_id] || e.contact_id || '未知联系人';
    const role = ROLE_LABELS[e.role] || e.role || '';
    const stateClass = `esc-state esc-${e.state || 'sent'}`;
    return el('li', { class: 'esc-item', testid: 'escalation-item' },
      el('span', { class: 'esc-time' }, clock(e.at)),
      el('span', { class: 'esc-channel' }, CHANNEL_LABELS[e.channel] || e.channel || ''),
      el('span', { class: 'esc-who' }, `${person}${role ? `（${role}）` : ''}`),
      el('span', { class: stateClass }, NOTIFY_STATE_LABELS[e.state] || e.state || ''),
      e.repeat ? el('span', { class: 'esc-repeat' }, `第${e.repeat + 1}轮`) : null);
  });
  if (items.length === 0) {
    return el('p', { class: 'muted small', testid: 'escalation-empty' },
      alert.source === 'township' ? '乡镇系统发现的告警，不经网关通知，请值班台直接处理' : '暂无通知记录');
  }
  // The latest few in full; the earlier ones folded, with who was told how often.
  const SHOWN = 4;
  const people = [...new Set(all.map((e) => e.name || names[e.contact_id] || e.contact_id).filter(Boolean))];
  const summary = el('p', { class: 'esc-summary small', testid: 'escalation-summary' },
    `已通知 ${people.join('、')}，共 ${all.length} 次`);
  const earlier = items.length > SHOWN
    ? el('details', { class: 'more' }, el('summary', {}, `更早的 ${items.length - SHOWN} 条通知`),
      el('ol', { class: 'esc-list' }, items.slice(0, items.length - SHOWN)))
    : null;
  return el('div', { testid: 'escalation-list' }, summary, earlier,
    el('ol', { class: 'esc-list' }, items.slice(-SHOWN)));
}

export function handlingList(alert, names, testid = 'handling-list') {
  const records = (alert.handling || []).filter((h) => h.event !== 'opened');
  if (records.length === 0) return null;
  return el('ol', { class: 'handling-list', testid },
    records.map((h) => {
      const channel = h.channel === 'township' ? '' : h.channel ? CHANNEL_LABELS[h.channel] || h.channel : '';
      const important = HELP_EVENTS.has(h.event) ? ' handling-help' : '';
      return el('li', { class: `handling-item${important}`, testid: 'handling-item' },
        el('span', { class: 'esc-time' }, dateTime(h.at)),
        el('span', { class: 'handling-event' }, EVENT_LABELS[h.event] || h.event),
        h.by ? el('span', { class: 'handling-by' }, byLabel(h.by, names) + (channel ? ` · ${channel}` : '')) : null,
        h.note ? el('span', { class: 'handling-note' }, `“${h.note}”`) : null);
    }));
}

function card(alert, ctx, rerender) {
  const names = contactNames(alert);
  const state = uiOf(alert.alert_id);
  const help = needsHelp(alert);
  const classes = ['alert-card', `sev-${alert.severity}`, `state-${alert.state}`];
  if (urgent(alert)) classes.push('flash');
  if (help) classes.push('need-help');
  const ack = acknowledgement(alert, names);
  const place = [alert.display_name || alert.household, alert.village, alert.location]
    .filter(Boolean).join(' · ');

  const actions = el('div', { class: 'card-actions' });
  const canHandle = ctx.canHandle();
  if (canHandle && alert.state === 'open') {
    actions.appendChild(el('button', {
      type: 'button', class: 'btn btn-primary', testid: 'btn-ack',
      disabled: state.pending === 'ack',
      onclick: () => command(alert, 'ack', '', ctx, rerender),
    }, state.pending === 'ack' ? '正在确认…' : '确认'));
  }
  actions.appendChild(el('button', {
    type: 'button', class: 'btn', testid: 'btn-note',
    onclick: () => { state.panel = state.panel === 'note' ? null : 'note'; state.error = ''; rerender(alert.alert_id); },
  }, '添加处理记录'));
  if (canHandle) {
    actions.appendChild(el('button', {
      type: 'button', class: 'btn btn-quiet', testid: 'btn-resolve',
      disabled: state.pending === 'resolve',
      onclick: () => { state.panel = state.panel === 'resolve' ? null : 'resolve'; state.error = ''; rerender(alert.alert_id); },
    }, state.pending === 'resolve' ? '正在解除…' : '解除'));
  }

  let panel = null;
  if (state.panel) {
    const text = el('textarea', {
      class: 'note-input', testid: 'note-input', rows: '2', maxlength: '600',
      placeholder: state.panel === 'note' ? '例如：已电话联系照料人，正在赶往' : '处置说明（可选），例如：误报，已通风',
    });
    text.value = state.draft;
    text.addEventListener('input', () => { state.draft = text.value; });
    if (state.panel === 'note') {
      panel = el('div', { class: 'card-panel', testid: 'note-panel' },
        el('label', { class: 'panel-title' }, '添加处理记录'), text,
        el('div', { class: 'panel-buttons' },
          el('button', {
            type: 'button', class: 'btn btn-primary', testid: 'note-save',
            onclick: () => saveNote(alert, state, rerender),
          }, '保存记录'),
          el('button', { type: 'button', class: 'btn btn-quiet', onclick: () => { state.panel = null; rerender(alert.alert_id); } }, '取消')));
    } else {
      panel = el('div', { class: 'card-panel panel-confirm', testid: 'resolve-panel' },
        el('p', { class: 'panel-title' }, '确定解除这条告警吗？'),
        el('p', { class: 'muted small' }, '解除表示事情已处理完毕：网关停止提醒，告警移入该户的历史记录。'),
        text,
        el('div', { class: 'panel-buttons' },
          el('button', {
            type: 'button', class: 'btn btn-danger', testid: 'resolve-confirm',
            onclick: () => command(alert, 'resolve', state.draft, ctx, rerender),
          }, '确认解除'),
          el('button', { type: 'button', class: 'btn btn-quiet', testid: 'resolve-cancel', onclick: () => { state.panel = null; rerender(alert.alert_id); } }, '取消')));
    }
  }

  let status;
  if (alert.state === 'acknowledged' && ack) {
    status = el('p', { class: 'card-status status-ack', testid: 'ack-info' },
      `✓ 已确认：${ack.who || '—'}${ack.channel ? ` · ${ack.channel}` : ''}${ack.at ? ` · ${clock(ack.at)}` : ''}`);
  } else if (state.pending === 'ack') {
    status = el('p', { class: 'card-status status-pending', testid: 'ack-pending' }, '确认已发往网关，等待回报…');
  } else if (state.pending === 'resolve') {
    status = el('p', { class: 'card-status status-pending', testid: 'resolve-pending' }, '解除已发往网关，等待回报…');
  } else {
    status = el('p', { class: 'card-status status-open' }, '尚无人确认');
  }

  return el('article', {
    class: classes.join(' '), testid: 'alert-card',
    dataset: { alertId: alert.alert_id, severity: alert.severity, state: alert.state, household: alert.household },
  },
    el('div', { class: 'card-head' },
      el('span', { class: `sev-badge sev-badge-${alert.severity}`, testid: 'alert-severity' }, severityLabel(alert)),
      el('h2', { class: 'card-kind', testid: 'alert-kind' }, kindLabel(alert)),
      help ? el('span', { class: 'help-badge', testid: 'need-help' }, '照料人请求帮助')
        : helpRequestedAt(alert) !== null ? el('span', { class: 'help-badge help-badge-done' }, '照料人曾请求帮助') : null,
      el('span', { class: `state-badge state-badge-${alert.state}`, testid: 'alert-state' }, stateLabel(alert)),
      ageNode(alert.raised_at, { testid: 'alert-age', class: 'age card-age' })),
    el('p', { class: 'card-place' },
      el('a', { href: `#/household/${encodeURIComponent(alert.household)}`, testid: 'alert-household' }, place),
      el('span', { class: 'muted small' }, ` · ${dateTime(alert.raised_at)} 发生`),
      alert.repeat_count > 0 ? el('span', { class: 'muted small' }, ` · 已重复 ${alert.repeat_count} 次`) : null),
    status,
    el('div', { class: 'card-body' },
      el('section', { class: 'card-section' }, el('h3', {}, '通知进展'), escalationList(alert, names)),
      (() => {
        const list = handlingList(alert, names);
        return list ? el('section', { class: 'card-section' }, el('h3', {}, '处理记录'), list) : null;
      })()),
    state.error ? el('p', { class: 'form-error', role: 'alert', testid: 'card-error' }, state.error) : null,
    actions,
    panel);
}

async function command(alert, action, note, ctx, rerender) {
  const state = uiOf(alert.alert_id);
  state.pending = action;
  state.error = '';
  rerender(alert.alert_id);
  try {
    const { status } = await post(`/api/alerts/${encodeURIComponent(alert.alert_id)}/${action}`, note ? { note } : {});
    if (action === 'resolve') { state.panel = null; state.draft = ''; }
    if (status === 200) {
      // A township alert changed in place: reload to show it.
      state.pending = null;
      await ctx.reloadAlerts();
    } else {
      // 202: the hub reports the change back; keep "pending" until it does (or 30 s pass).
      setTimeout(() => {
        if (state.pending === action) { state.pending = null; rerender(alert.alert_id); }
      }, 30000);
    }
  } catch (e) {
    state.pending = null;
    state.error = e.message;
    if (e.status === 409) ctx.reloadAlerts();
  }
  rerender(alert.alert_id);
}

async function saveNote(alert, state, rerender) {
  const note = state.draft.trim();
  if (!note) {
    state.error = '请先填写处理记录';
    rerender(alert.alert_id);
    return;
  }
  try {
    await post(`/api/alerts/${encodeURIComponent(alert.alert_id)}/note`, { note });
    state.panel = null;
    state.draft = '';
    state.error = '';
  } catch (e) {
    state.error = e.message;
  }
  rerender(alert.alert_id);
}

export function render(main, ctx) {
  const summary = el('div', { class: 'board-summary', testid: 'board-summary' });
  const list = el('div', { class: 'alert-list', testid: 'alert-list', 'aria-live': 'polite' });
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true, testid: 'board-error' });
  main.appendChild(el('section', { class: 'page board', testid: 'board' },
    el('div', { class: 'page-head' }, el('h1', {}, '实时告警'), summary),
    error, list));

  const cards = new Map(); // alert_id → { node, key }
  const keyOf = (a) => JSON.stringify(a) + JSON.stringify(uiOf(a.alert_id));

  function rerenderOne(id) {
    const alert = ctx.alerts.get(id);
    const entry = cards.get(id);
    if (!alert || !entry) return;
    const fresh = card(alert, ctx, rerenderOne);
    entry.node.replaceWith(fresh);
    entry.node = fresh;
    entry.key = keyOf(alert);
    const input = fresh.querySelector('textarea');
    if (input && document.activeElement === document.body) input.focus();
  }

  function renderAll() {
    if (!ctx.alertsLoaded) {
      if (!list.firstChild) list.appendChild(el('p', { class: 'muted board-placeholder' }, '正在加载告警…'));
      return;
    }
    const sorted = sortAlerts(ctx.alerts.values());
    // Summary chips.
    const urgentCount = sorted.filter(urgent).length;
    const openCount = sorted.filter((a) => a.state === 'open').length;
    const ackCount = sorted.filter((a) => a.state === 'acknowledged').length;
    clear(summary).append(
      el('span', { class: `chip ${urgentCount ? 'chip-urgent' : ''}`, testid: 'count-urgent' }, `紧急 ${urgentCount}`),
      el('span', { class: 'chip', testid: 'count-open' }, `待处理 ${openCount}`),
      el('span', { class: 'chip', testid: 'count-ack' }, `已确认 ${ackCount}`));
    // Clear pending flags the hub has answered.
    for (const a of sorted) {
      const s = ui.get(a.alert_id);
      if (s && s.pending === 'ack' && a.state !== 'open') s.pending = null;
    }
    if (sorted.length === 0) {
      cards.clear();
      clear(list).appendChild(el('div', { class: 'empty board-placeholder', testid: 'board-empty' },
        el('span', { class: 'empty-mark', 'aria-hidden': 'true' }, '✓'),
        el('p', { class: 'empty-title' }, '目前没有待处理的告警'),
        el('p', { class: 'muted' }, '新的告警会自动出现在这里，无需刷新页面。')));
      return;
    }
    const placeholder = list.querySelector(':scope > .board-placeholder');
    if (placeholder) placeholder.remove();
    const seen = new Set();
    let previous = null;
    for (const alert of sorted) {
      seen.add(alert.alert_id);
      let entry = cards.get(alert.alert_id);
      const key = keyOf(alert);
      if (!entry) {
        entry = { node: card(alert, ctx, rerenderOne), key };
        cards.set(alert.alert_id, entry);
      } else if (entry.key !== key) {
        const fresh = card(alert, ctx, rerenderOne);
        entry.node.replaceWith(fresh);
        entry.node = fresh;
        entry.key = key;
      }
      const wanted = previous ? previous.nextSibling : list.firstChild;
      if (wanted !== entry.node) list.insertBefore(entry.node, wanted);
      previous = entry.node;
    }
    for (const [id, entry] of cards) {
      if (!seen.has(id)) {
        entry.node.remove();
        cards.delete(id);
        ui.delete(id);
      }
    }
  }

  const listener = (kind, payload) => {
    if (kind === 'error') {
      error.textContent = `告警加载失败：${payload.message}`;
      error.hidden = false;
      return;
    }
    if (kind === 'alert' || kind === 'reload') {
      error.hidden = true;
      renderAll();
    }
  };
  ctx.listeners.add(listener);
  renderAll();
  return () => ctx.listeners.delete(listener);
}
