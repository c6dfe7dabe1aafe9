/**
 * Pure helpers of the console's operations pages (docs/console.md "Live", "Usage and billing",
 * "Webhooks and engines"): durations, chart scales and geometry, the billing settings. No DOM here,
 * so web/src/console/ops-format.test.ts covers them.
 */

/** A stream's running time as a person reads it: "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(durationMs: number): string {
  const s = Math.max(0, Math.floor(durationMs / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** The top of a chart's axis for values up to `max`: 1, 2 or 5 × a power of ten, at least `max` (1 for nothing). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** A chart's drawing area, in SVG user units. */
export interface ChartBox {
  width: number;
  height: number;
  /** Room left of the bars for the axis labels, below for the dates, above for the top label. */
  left: number;
  bottom: number;
  top: number;
}

/** One bar of {@link barGeometry}: its left edge, top and size. */
export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Bars for `values` (≥ 0) scaled to `top`, evenly spaced across `box` with a 25 % gap. */
export function barGeometry(values: readonly number[], top: number, box: ChartBox): Bar[] {
  const plotW = box.width - box.left;
  const plotH = box.height - box.bottom - box.top;
  const slot = plotW / Math.max(1, values.length);
  return values.map((v, i) => {
    const height = (Math.max(0, v) / top) * plotH;
    return { x: box.left + i * slot + slot * 0.125, y: box.top + plotH - height, width: slot * 0.75, height };
  });
}

/**
 * The points of a line through `values` (null: no point that day, the line breaks) scaled to
 * `top`, one per slot centre of `box`, as SVG path data ("M x y L x y …").
 */
export function linePath(values: ReadonlyArray<number | null>, top: number, box: ChartBox): string {
  const plotW = box.width - box.left;
  const plotH = box.height - box.bottom - box.top;
  const slot = plotW / Math.max(1, values.length);
  let path = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = box.left + (i + 0.5) * slot;
    const y = box.top + plotH - (Math.max(0, v) / top) * plotH;
    path += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
    pen = true;
  });
  return path.trim();
}

/** A `YYYY-MM-DD` day as "8 Dec" (UTC, the day the server counted it in). */
export function shortDay(date: string, locale?: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : d.toLocaleDateString(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** What to set for invoices when Stripe is not configured (docs/billing.md "Setup"). */
export const BILLING_SETTINGS: ReadonlyArray<{ name: string; what: string }> = [
  { name: 'STRIPE_SECRET_KEY', what: 'the Stripe API key (sk_… or a restricted rk_…); billing is off without it, usage is still counted' },
  { name: 'STRIPE_WEBHOOK_SECRET', what: 'the signing secret (whsec_…) of the endpoint /api/webhooks/stripe' },
  { name: 'STRIPE_PRICE_PLANS', what: 'JSON: Stripe price id → {"tier", "minutes"} it gives' },
];

/**
 * When a webhook delivery is tried again (docs/console.md "Webhooks and engines"), to the second:
 * retries come seconds apart, so "in 8 s (03:25:42 AM)" rather than a minute-resolution date that
 * reads the same as the delivery's creation. `nowMs` is the clock the page read the list at (epoch
 * ms); '—' when no retry is planned; a full date past an hour.
 */
export function formatNextAttempt(isoDate: string | null, nowMs: number, locale?: string): string {
  if (!isoDate) return '—';
  const at = new Date(isoDate);
  if (Number.isNaN(at.getTime())) return isoDate;
  const inS = Math.round((at.getTime() - nowMs) / 1000);
  const clock = at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (inS <= 0) return `due now (${clock})`;
  if (inS < 60) return `in ${inS} s (${clock})`;
  if (inS < 3600) return `in ${Math.round(inS / 60)} min (${clock})`;
  return at.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
