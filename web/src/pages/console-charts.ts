/**
 * The usage page's charts (docs/console.md "Usage and billing"): inline SVG drawn from
 * web/src/console/ops-format.ts's geometry, no chart library. Each chart is an `img` with a title
 * and a summary for screen readers; the page adds the same numbers as a table.
 */
import { barGeometry, linePath, niceMax, shortDay, type ChartBox } from '../console/ops-format';
import { h } from '../ui/dom';

const SVG = 'http://www.w3.org/2000/svg';
const BOX: ChartBox = { width: 720, height: 220, left: 44, bottom: 26 };

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Axis lines and labels at 0, half and `top`; dates under the first, middle and last day. */
function axes(root: SVGElement, dates: readonly string[], top: number, unit: string): void {
  const plotH = BOX.height - BOX.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = plotH - f * plotH;
    root.append(svg('line', { x1: BOX.left, x2: BOX.width, y1: y, y2: y, class: 'chart-grid' }));
    root.append(svg('text', { x: BOX.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-label' }, `${+(top * f).toFixed(2)}${unit}`));
  }
  const slot = (BOX.width - BOX.left) / Math.max(1, dates.length);
  for (const i of new Set([0, Math.floor((dates.length - 1) / 2), dates.length - 1])) {
    const date = dates[i];
    if (date === undefined) continue;
    root.append(svg('text', { x: BOX.left + (i + 0.5) * slot, y: BOX.height - 6, 'text-anchor': 'middle', class: 'chart-label' }, shortDay(date)));
  }
}

function frame(title: string, summary: string, testId: string): SVGElement {
  const id = `${testId}-title`;
  const root = svg('svg', { viewBox: `0 0 ${BOX.width} ${BOX.height}`, role: 'img', 'aria-labelledby': id, class: 'usage-chart', 'data-testid': testId });
  root.append(svg('title', { id }, `${title}. ${summary}`));
  return root;
}

/** Minutes per day as bars; `summary` is read instead of the picture. */
export function minutesChart(days: ReadonlyArray<{ date: string; minutes: number }>, summary: string): Element {
  const top = niceMax(Math.max(0, ...days.map((d) => d.minutes)));
  const root = frame('Minutes per day', summary, 'usage-minutes-chart');
  axes(root, days.map((d) => d.date), top, '');
  barGeometry(days.map((d) => d.minutes), top, BOX).forEach((b, i) => {
    if (b.height <= 0) return;
    const bar = svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 2, class: 'chart-bar', 'data-date': days[i]?.date ?? '' });
    bar.append(svg('title', {}, `${days[i]?.date}: ${days[i]?.minutes} min`));
    root.append(bar);
  });
  return root;
}

/** Latency percentiles per day as lines (p50 solid, p95 dashed), in ms. */
export function latencyChart(days: ReadonlyArray<{ date: string; p50: number | null; p95: number | null }>, summary: string): Element {
  const top = niceMax(Math.max(0, ...days.flatMap((d) => [d.p50 ?? 0, d.p95 ?? 0])));
  const root = frame('Latency per day, end of speech to final transcript', summary, 'usage-latency-chart');
  axes(root, days.map((d) => d.date), top, ' ms');
  for (const [key, cls] of [['p50', 'chart-line'], ['p95', 'chart-line chart-line-p95']] as const) {
    const d = linePath(days.map((day) => day[key]), top, BOX);
    if (d) root.append(svg('path', { d, class: cls, fill: 'none' }));
    // A day alone draws no line: a dot shows it.
    const slot = (BOX.width - BOX.left) / Math.max(1, days.length);
    days.forEach((day, i) => {
      const v = day[key];
      if (v === null) return;
      root.append(svg('circle', { cx: BOX.left + (i + 0.5) * slot, cy: (BOX.height - BOX.bottom) * (1 - v / top), r: 3.5, class: cls }));
    });
  }
  return root;
}

/** The legend under the latency chart. */
export function latencyLegend(): HTMLElement {
  return h('p', { class: 'chart-legend', 'aria-hidden': 'true' },
    h('span', { class: 'legend-p50' }, 'p50 (median)'), h('span', { class: 'legend-p95' }, 'p95'));
}
