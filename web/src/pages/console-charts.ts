/**
 * The usage page's charts (docs/console.md "Usage and billing"): inline SVG drawn from
 * web/src/console/ops-format.ts's geometry, no chart library. Each chart is an `img` with a title
 * and a summary for screen readers; the page adds the same numbers as a table.
 */
import { barGeometry, linePath, niceMax, shortDay, type ChartBox } from '../console/ops-format';
import { h } from '../ui/dom';

const SVG = 'http://www.w3.org/2000/svg';
/** The drawing at laptop width, and at phone width (fewer units wide, so its text stays readable). */
const WIDE: ChartBox = { width: 720, height: 220, left: 52, bottom: 26, top: 12 };
const NARROW: ChartBox = { width: 360, height: 200, left: 52, bottom: 26, top: 12 };

/** The box for a chart shown `widthPx` CSS px wide. */
export function chartBox(widthPx: number): ChartBox {
  return widthPx < 560 ? NARROW : WIDE;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Axis lines and labels at 0, half and `top`; dates under the first, middle and last day. */
function axes(root: SVGElement, box: ChartBox, dates: readonly string[], top: number, unit: string): void {
  const plotH = box.height - box.bottom - box.top;
  for (const f of [0, 0.5, 1]) {
    const y = box.top + plotH - f * plotH;
    root.append(svg('line', { x1: box.left, x2: box.width, y1: y, y2: y, class: 'chart-grid' }));
    root.append(svg('text', { x: box.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-label' }, `${+(top * f).toFixed(2)}${unit}`));
  }
  const slot = (box.width - box.left) / Math.max(1, dates.length);
  const last = dates.length - 1;
  for (const i of new Set([0, Math.floor(last / 2), last])) {
    const date = dates[i];
    if (date === undefined) continue;
    // The first and last dates are aligned to the plot's edges so neither is cut off.
    const edge = i === last && last > 0 ? { x: box.width, anchor: 'end' } : i === 0 ? { x: box.left, anchor: 'start' } : { x: box.left + (i + 0.5) * slot, anchor: 'middle' };
    root.append(svg('text', { x: edge.x, y: box.height - 6, 'text-anchor': edge.anchor, class: 'chart-label' }, shortDay(date)));
  }
}

function frame(box: ChartBox, title: string, summary: string, testId: string): SVGElement {
  const id = `${testId}-title`;
  const root = svg('svg', { viewBox: `0 0 ${box.width} ${box.height}`, role: 'img', 'aria-labelledby': id, class: 'usage-chart', 'data-testid': testId });
  root.append(svg('title', { id }, `${title}. ${summary}`));
  return root;
}

/** Minutes per day as bars; `summary` is read instead of the picture. */
export function minutesChart(days: ReadonlyArray<{ date: string; minutes: number }>, summary: string, box: ChartBox): Element {
  const top = niceMax(Math.max(0, ...days.map((d) => d.minutes)));
  const root = frame(box, 'Minutes per day', summary, 'usage-minutes-chart');
  axes(root, box, days.map((d) => d.date), top, '');
  barGeometry(days.map((d) => d.minutes), top, box).forEach((b, i) => {
    if (b.height <= 0) return;
    const bar = svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 2, class: 'chart-bar', 'data-date': days[i]?.date ?? '' });
    bar.append(svg('title', {}, `${days[i]?.date}: ${days[i]?.minutes} min`));
    root.append(bar);
  });
  return root;
}

/** Latency percentiles per day as lines (p50 solid, p95 dashed), in ms. */
export function latencyChart(days: ReadonlyArray<{ date: string; p50: number | null; p95: number | null }>, summary: string, box: ChartBox): Element {
  const top = niceMax(Math.max(0, ...days.flatMap((d) => [d.p50 ?? 0, d.p95 ?? 0])));
  const root = frame(box, 'Latency per day, end of speech to final transcript', summary, 'usage-latency-chart');
  axes(root, box, days.map((d) => d.date), top, ' ms');
  for (const [key, cls] of [['p50', 'chart-line'], ['p95', 'chart-line chart-line-p95']] as const) {
    const d = linePath(days.map((day) => day[key]), top, box);
    if (d) root.append(svg('path', { d, class: cls, fill: 'none' }));
    // A day alone draws no line: a dot shows it.
    const slot = (box.width - box.left) / Math.max(1, days.length);
    days.forEach((day, i) => {
      const v = day[key];
      if (v === null) return;
      root.append(svg('circle', { cx: box.left + (i + 0.5) * slot, cy: box.top + (box.height - box.bottom - box.top) * (1 - v / top), r: 3.5, class: cls }));
    });
  }
  return root;
}

/** The legend under the latency chart. */
export function latencyLegend(): HTMLElement {
  return h('p', { class: 'chart-legend', 'aria-hidden': 'true' },
    h('span', { class: 'legend-p50' }, 'p50 (median)'), h('span', { class: 'legend-p95' }, 'p95'));
}
