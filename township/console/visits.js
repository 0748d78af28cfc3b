// #/visits (or #/visits/HOUSEHOLD to preselect one): record a visit, the month's visit rate per
// village, the residents still without a visit this month (high-risk first), CSV / Excel export.

import { get, post } from './api.js';
import { el, clear, isoDate, isoMonth, shortDate } from './util.js';

const TYPES = ['上门入户', '电话视频', '远程监测'];
const ASPECTS = [
  ['健康', '身体状况、用药、就医情况'],
  ['经济', '收入、补贴领取、生活开支'],
  ['赡养扶养', '子女或赡养人联系、照料情况'],
  ['居家安全隐患', '用火用电用气、设备是否正常'],
  ['服务需求', '需要协调的服务或帮助'],
];
const RISK_ORDER = { 高风险: 0, 重点: 1, 一般: 2 };
const RISK_CLASS = { 高风险: 'risk-high', 重点: 'risk-mid', 一般: 'risk-low' };

function percent(rate) {
  return `${Math.round((rate || 0) * 1000) / 10}%`;
}

export function render(main, ctx, params) {
  const preselect = params[0] || '';
  const monthInput = el('input', { type: 'month', value: isoMonth(), max: isoMonth(), testid: 'visit-month', id: 'visit-month' });
  const csv = el('a', { class: 'btn', testid: 'export-csv', download: '' }, '导出 CSV');
  const xlsx = el('a', { class: 'btn', testid: 'export-xlsx', download: '' }, '导出 Excel');
  const report = el('div', { class: 'report', testid: 'visit-report' }, el('p', { class: 'muted' }, '正在加载…'));
  const missing = el('div', { testid: 'not-visited-section' });

  // ---- the form ----
  const householdSelect = el('select', { id: 'visit-household', testid: 'visit-household', required: true },
    el('option', { value: '' }, '请选择居民'));
  const typeGroup = el('div', { class: 'radio-row', role: 'radiogroup', 'aria-label': '探访方式', testid: 'visit-type' },
    TYPES.map((t, i) => el('label', { class: 'radio' },
      el('input', { type: 'radio', name: 'visit-type', value: t, checked: i === 0, testid: `visit-type-${i}` }), t)));
  const dateInput = el('input', { type: 'date', id: 'visit-date', value: isoDate(), max: isoDate(), required: true, testid: 'visit-date' });
  const aspectInputs = ASPECTS.map(([name, hint], i) => el('textarea', {
    id: `aspect-${i}`, rows: '2', maxlength: '1000', placeholder: hint, testid: `aspect-${i}`, dataset: { aspect: name },
  }));
  const note = el('textarea', { id: 'visit-note', rows: '3', maxlength: '2000', placeholder: '其他情况（可选）', testid: 'visit-note' });
  const message = el('p', { class: 'form-message', role: 'status', testid: 'visit-message', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', testid: 'visit-submit' }, '保存探访记录');
  const form = el('form', { class: 'visit-form', testid: 'visit-form', novalidate: true },
    el('label', { for: 'visit-household' }, '居民'), householdSelect,
    el('span', { class: 'label' }, '探访方式'), typeGroup,
    el('label', { for: 'visit-date' }, '探访日期'), dateInput,
    el('fieldset', { class: 'aspects-fieldset' }, el('legend', {}, '探访内容（五个方面）'),
      ASPECTS.map(([name], i) => [el('label', { for: `aspect-${i}` }, name), aspectInputs[i]])),
    el('label', { for: 'visit-note' }, '备注'), note,
    message, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.hidden = true;
    message.className = 'form-message';
    const household = householdSelect.value;
    if (!household) return show('请选择居民', true);
    if (!dateInput.value) return show('请填写探访日期', true);
    const aspects = {};
    aspectInputs.forEach((input) => {
      if (input.value.trim()) aspects[input.dataset.aspect] = input.value.trim();
    });
    if (Object.keys(aspects).length === 0) return show('请至少填写一个方面的探访内容', true);
    const type = form.querySelector('input[name="visit-type"]:checked').value;
    submit.disabled = true;
    try {
      await post(`/api/households/${encodeURIComponent(household)}/visits`, {
        type, date: dateInput.value, aspects, note: note.value.trim(),
      });
      const label = householdSelect.selectedOptions[0].textContent;
      aspectInputs.forEach((input) => { input.value = ''; });
      note.value = '';
      show(`已保存：${label}，${shortDate(dateInput.value)} ${type}`, false);
      if (dateInput.value.slice(0, 7) === monthInput.value) loadReport();
    } catch (e) {
      show(e.message, true);
    } finally {
      submit.disabled = false;
    }
    return undefined;
  });

  function show(text, isError) {
    message.textContent = text;
    message.classList.toggle('form-error', isError);
    message.classList.toggle('form-ok', !isError);
    message.hidden = false;
  }

  function choose(household) {
    householdSelect.value = household;
    form.scrollIntoView({ behavior: 'smooth', block: 'start' });
    householdSelect.focus({ preventScroll: true });
  }

  main.appendChild(el('section', { class: 'page', testid: 'visits-page' },
    el('div', { class: 'page-head' }, el('h1', {}, '探访管理'),
      el('div', { class: 'month-tools' },
        el('label', { for: 'visit-month' }, '月份'), monthInput, csv, xlsx)),
    el('div', { class: 'grid-visits' },
      el('section', { class: 'panel' }, el('h2', { class: 'panel-title' }, '记录探访'), form),
      el('div', {},
        el('section', { class: 'panel' }, el('h2', { class: 'panel-title' }, '各村探访率'), report),
        el('section', { class: 'panel' }, missing)))));

  // ---- data ----
  let households = [];
  async function loadHouseholds() {
    try {
      households = await get('/api/households');
    } catch (e) {
      show(`居民名单加载失败：${e.message}`, true);
      return;
    }
    households.sort((a, b) => (RISK_ORDER[a.risk_class] ?? 3) - (RISK_ORDER[b.risk_class] ?? 3)
      || String(a.village).localeCompare(String(b.village), 'zh-CN')
      || String(a.display_name).localeCompare(String(b.display_name), 'zh-CN'));
    for (const h of households) {
      householdSelect.appendChild(el('option', { value: h.household_id },
        `${h.display_name}（${h.village}${h.risk_class ? ` · ${h.risk_class}` : ''}）`));
    }
    if (preselect) householdSelect.value = preselect;
  }

  async function loadReport() {
    const month = monthInput.value || isoMonth();
    const base = `/api/reports/visit-rate?month=${encodeURIComponent(month)}`;
    csv.href = `${base}&format=csv`;
    xlsx.href = `${base}&format=xlsx`;
    csv.setAttribute('download', `探访率-${month}.csv`);
    xlsx.setAttribute('download', `探访率-${month}.xlsx`);
    let data;
    try {
      data = await get(base);
    } catch (e) {
      clear(report).appendChild(el('p', { class: 'form-error', role: 'alert' }, `加载失败：${e.message}`));
      return;
    }
    clear(report);
    const townships = data.townships || [];
    if (townships.length === 0) report.appendChild(el('p', { class: 'muted' }, '没有居民'));
    for (const t of townships) {
      report.appendChild(el('div', { class: 'township-rate', testid: 'township-rate' },
        el('h3', {}, `${t.township}`, el('span', { class: 'muted small' },
          ` 合计 ${t.visited}/${t.residents} · ${percent(t.visit_rate)}`))));
      for (const v of t.villages || []) {
        const pct = Math.round((v.visit_rate || 0) * 100);
        report.appendChild(el('div', {
          class: 'rate-row', testid: 'village-rate',
          dataset: { village: v.village, visited: String(v.visited), residents: String(v.residents) },
        },
          el('span', { class: 'rate-name' }, v.village),
          el('span', { class: 'rate-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': `${v.village}探访率` },
            el('span', { class: `rate-fill ${pct >= 100 ? 'rate-done' : ''}`, style: `width:${pct}%` })),
          el('span', { class: 'rate-text', testid: 'village-rate-text' }, `${v.visited}/${v.residents} · ${percent(v.visit_rate)}`)));
      }
    }
    renderMissing(data);
  }

  function renderMissing(data) {
    clear(missing);
    let rows = data.not_visited;
    const high = data.high_risk_missed || [];
    missing.appendChild(el('h2', { class: 'panel-title' }, '本月尚未探访的居民'));
    if (!Array.isArray(rows)) {
      missing.appendChild(el('p', { class: 'muted', testid: 'not-visited-unavailable' }, '服务端暂未提供未探访名单。'));
    } else if (rows.length === 0) {
      missing.appendChild(el('p', { class: 'ok-line', testid: 'not-visited-empty' }, '✓ 本月所有居民都已探访'));
    } else {
      rows = [...rows].sort((a, b) => (RISK_ORDER[a.risk_class] ?? 3) - (RISK_ORDER[b.risk_class] ?? 3));
      missing.appendChild(el('ul', { class: 'missing-list', testid: 'not-visited' }, rows.map((r) =>
        el('li', { testid: 'not-visited-item', dataset: { household: r.household } },
          el('span', { class: `tag ${RISK_CLASS[r.risk_class] || ''}` }, r.risk_class || ''),
          el('a', { href: `#/household/${encodeURIComponent(r.household)}` }, r.display_name || r.household),
          el('span', { class: 'muted small' }, `${r.village || ''} · ${r.last_visit_date ? `上次 ${shortDate(r.last_visit_date)}` : '从未探访'}`),
          el('button', { type: 'button', class: 'btn btn-small', onclick: () => choose(r.household) }, '记录探访')))));
    }
    if (high.length) {
      const names = new Map(households.map((h) => [h.household_id, h.display_name]));
      missing.appendChild(el('h3', { class: 'subhead' }, `高风险居民漏周（每周至少探访一次）：${high.length} 人`));
      missing.appendChild(el('ul', { class: 'missing-list', testid: 'high-risk-missed' }, high.map((r) =>
        el('li', {},
          el('span', { class: 'tag risk-high' }, '高风险'),
          el('a', { href: `#/household/${encodeURIComponent(r.household)}` }, names.get(r.household) || r.household),
          el('span', { class: 'muted small' }, `${r.village || ''} · 第 ${(r.missed_weeks || []).join('、')} 周未探访`)))));
    }
  }

  monthInput.addEventListener('change', loadReport);
  loadHouseholds();
  loadReport();
  return null;
}
