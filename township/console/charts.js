// 30-day charts drawn as inline SVG: one point per day, the line broken where a day has no
// summary, and the learned normal range (10th–90th percentile of the previous 28 days) shaded
// behind, so a drop in routine shows as points below the band.

import { el, svg, shortDate } from './util.js';

const PAD = { left: 48, right: 14, top: 14, bottom: 28 };

// A round step for about four grid lines up to `value`.
function niceStep(value) {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value / 4));
  for (const f of [1, 2, 2.5, 5, 10]) {
    if (f * exp * 4 >= value) return f * exp;
  }
  return 10 * exp;
}

function format(value, decimals) {
  return Number(value).toLocaleString('zh-CN', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}

// days: [{date, [key]: number|null, normal: {[key]: [lo, hi]}|null}]
// width: the drawing's width in CSS pixels (the SVG is drawn 1:1 so its text stays readable).
export function dailyChart({ days, key, title, unit, decimals = 0, testid, width = 640 }) {
  const W = Math.max(280, Math.round(width));
  const H = 190;
  const n = days.length;
  const values = days.map((d) => (typeof d[key] === 'number' ? d[key] : null));
  const bands = days.map((d) => {
    const range = d.normal && d.normal[key];
    return Array.isArray(range) && typeof range[0] === 'number' && typeof range[1] === 'number' ? range : null;
  });
  const known = values.filter((v) => v !== null);
  const step = niceStep(Math.max(0, ...known, ...bands.filter(Boolean).map((b) => b[1])) * 1.08);
  const top = step * Math.max(1, Math.ceil((Math.max(0, ...known, ...bands.filter(Boolean).map((b) => b[1])) * 1.08) / step));
  const ticks = Math.round(top / step);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (n <= 1 ? innerW / 2 : (i * innerW) / (n - 1));
  const y = (v) => PAD.top + innerH - (v / top) * innerH;

  const root = svg('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${title}，近${n}天`, testid,
  });

  // Grid and y labels.
  for (let t = 0; t <= ticks; t += 1) {
    const v = step * t;
    const yy = y(v);
    root.appendChild(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy }));
    root.appendChild(svg('text', { class: 'axis-label', x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end', text: format(v, step < 1 ? 1 : 0) }));
  }
  // x labels: the last day and every 7th before it, then the first; a label that would overlap a
  // kept one is left out (about 13 px per character).
  const kept = [];
  const candidates = [];
  for (let i = n - 1; i >= 0; i -= 7) candidates.push(i);
  if (n > 0 && candidates[candidates.length - 1] !== 0) candidates.push(0);
  for (const i of candidates) {
    const text = shortDate(days[i].date);
    const w = text.length * 13;
    const anchor = i === n - 1 ? 'end' : i === 0 ? 'start' : 'middle';
    const left = anchor === 'end' ? x(i) - w : anchor === 'start' ? x(i) : x(i) - w / 2;
    if (kept.some(([l, r]) => left < r + 8 && left + w > l - 8)) continue;
    kept.push([left, left + w]);
    root.appendChild(svg('text', { class: 'axis-label', x: x(i), y: H - 8, 'text-anchor': anchor, text }));
  }

  // The normal band: one shaded area per run of days that have it.
  let run = [];
  const flushBand = () => {
    if (run.length === 0) return;
    const upper = run.map((i) => `${x(i).toFixed(1)},${y(bands[i][1]).toFixed(1)}`);
    const lower = run.slice().reverse().map((i) => `${x(i).toFixed(1)},${y(bands[i][0]).toFixed(1)}`);
    if (run.length === 1) {
      const i = run[0];
      const half = n > 1 ? innerW / (n - 1) / 2 : 6;
      root.appendChild(svg('rect', {
        class: 'band', testid: 'chart-band', x: x(i) - half, y: y(bands[i][1]), width: half * 2,
        height: Math.max(1, y(bands[i][0]) - y(bands[i][1])),
      }));
    } else {
      root.appendChild(svg('polygon', { class: 'band', testid: 'chart-band', points: [...upper, ...lower].join(' ') }));
    }
    run = [];
  };
  bands.forEach((b, i) => (b ? run.push(i) : flushBand()));
  flushBand();

  // The line, broken at missing days, and a point per known day (hollow red when outside the band).
  let segment = [];
  const flushLine = () => {
    if (segment.length > 1) {
      root.appendChild(svg('polyline', {
        class: 'line', points: segment.map((i) => `${x(i).toFixed(1)},${y(values[i]).toFixed(1)}`).join(' '),
      }));
    }
    segment = [];
  };
  values.forEach((v, i) => (v === null ? flushLine() : segment.push(i)));
  flushLine();
  values.forEach((v, i) => {
    if (v === null) return;
    const band = bands[i];
    const outside = band && (v < band[0] || v > band[1]);
    const point = svg('circle', {
      class: outside ? 'point point-out' : 'point', testid: 'chart-point', cx: x(i).toFixed(1), cy: y(v).toFixed(1),
      r: outside ? 4 : 3,
    });
    const note = band ? `（正常 ${format(band[0], decimals)}–${format(band[1], decimals)}）` : '';
    point.appendChild(svg('title', { text: `${shortDate(days[i].date)}：${format(v, decimals)} ${unit}${note}` }));
    root.appendChild(point);
  });

  const last = [...values].reverse().find((v) => v !== null);
  const lastDay = days.length ? days[days.length - 1] : null;
  const headline = last === undefined
    ? el('span', { class: 'muted' }, '暂无数据')
    : el('span', { class: 'chart-value' }, `${format(last, decimals)} ${unit}`,
      el('span', { class: 'muted small' }, lastDay && values[n - 1] !== null ? ' 最近一天' : ' 最近有数据的一天'));
  return el('figure', { class: 'chart-card', testid: `${testid}-card` },
    el('figcaption', {}, el('span', { class: 'chart-title' }, title), headline),
    known.length === 0 ? el('p', { class: 'chart-empty muted' }, '近30天没有收到该户网关的每日汇总') : root,
    el('p', { class: 'chart-legend small muted' },
      el('span', { class: 'legend-item' }, el('span', { class: 'legend-band', 'aria-hidden': 'true' }), '正常范围（此前28天的常见区间）'),
      el('span', { class: 'legend-item' }, el('span', { class: 'legend-point', 'aria-hidden': 'true' }), '每日数值'),
      el('span', { class: 'legend-item' }, el('span', { class: 'legend-point legend-out', 'aria-hidden': 'true' }), '超出正常范围')));
}
