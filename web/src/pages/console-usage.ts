/**
 * Console → Usage and billing (docs/console.md "Usage and billing"): minutes per day and latency
 * percentiles per day as inline SVG charts with the same numbers as a table (`GET /api/ops/usage`),
 * and the invoices (`GET /api/billing/invoices`), or, when Stripe is not configured (501), the
 * settings that turn billing on.
 */
import { getUsage, listInvoices, type Invoice, type UsageDay } from '../api/platform-ops';
import { PlatformError } from '../api/platform';
import { formatWhen } from '../console/format';
import { BILLING_SETTINGS, shortDay } from '../console/ops-format';
import type { Cleanup } from '../router';
import { h, replaceChildren } from '../ui/dom';
import type { ConsoleContext } from './console';
import { chartBox, latencyChart, latencyLegend, minutesChart } from './console-charts';

/** Days the charts cover, today included. */
export const USAGE_DAYS = 14;

/** Mounts the Usage and billing page into `root`. */
export function mountUsage(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  const usageSlot = h('div', { class: 'usage-charts', 'data-testid': 'usage', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the usage…'));
  const invoicesSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'invoices', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the invoices…'));
  const chartsSlot = h('div', { class: 'usage-charts-inner' });
  let shown: { days: UsageDay[]; boxWidth: number } | undefined;
  // The charts are drawn for the width they get (phone or laptop) and again when it changes.
  const drawCharts = (): void => {
    if (!shown) return;
    const boxWidth = chartBox(usageSlot.clientWidth).width;
    if (chartsSlot.childElementCount > 0 && boxWidth === shown.boxWidth) return;
    shown.boxWidth = boxWidth;
    replaceChildren(chartsSlot, ...chartsView(shown.days, usageSlot.clientWidth));
  };
  const resize = new ResizeObserver(drawCharts);
  const loadUsage = (): void => {
    getUsage(ctx.key(), USAGE_DAYS).then((days) => {
      if (!alive) return;
      usageSlot.removeAttribute('aria-busy');
      shown = { days, boxWidth: 0 };
      chartsSlot.replaceChildren();
      replaceChildren(usageSlot, chartsSlot, usageTable(days));
      drawCharts();
      resize.observe(usageSlot);
    }, (error: unknown) => alive && ctx.fail('Loading the usage', error, loadUsage));
  };
  const loadInvoices = (): void => {
    listInvoices(ctx.key()).then((invoices) => {
      if (!alive) return;
      invoicesSlot.removeAttribute('aria-busy');
      replaceChildren(invoicesSlot, invoiceTable(invoices));
    }, (error: unknown) => {
      if (!alive) return;
      invoicesSlot.removeAttribute('aria-busy');
      if (error instanceof PlatformError && error.status === 501) replaceChildren(invoicesSlot, billingSetup(error.message));
      else ctx.fail('Loading the invoices', error, loadInvoices);
    });
  };
  root.append(
    h('section', { class: 'card console-card', 'aria-labelledby': 'usage-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'usage-title' }, `Usage, last ${USAGE_DAYS} days`)),
      usageSlot,
      h('p', { class: 'console-footnote', 'data-testid': 'usage-footnote' }, 'Minutes are the audio every stream of this organization received (live and test keys, in a session or opened with a key alone), by the UTC day it was received; latency is from the end of speech, per final transcript.')),
    h('section', { class: 'card console-card', 'aria-labelledby': 'invoices-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'invoices-title' }, 'Invoices')),
      invoicesSlot),
  );
  loadUsage();
  loadInvoices();
  return () => {
    alive = false;
    resize.disconnect();
  };
}

const ms = (v: number | null): string => (v === null ? '—' : `${v} ms`);

/** The two charts with their summaries, drawn for a container `widthPx` wide. */
function chartsView(days: readonly UsageDay[], widthPx: number): Array<HTMLElement | Element> {
  const box = chartBox(widthPx);
  const total = days.reduce((sum, d) => sum + d.minutes, 0);
  const busiest = days.reduce<UsageDay | undefined>((best, d) => (!best || d.minutes > best.minutes ? d : best), undefined);
  const latest = [...days].reverse().find((d) => d.finalP50Ms !== null);
  const minutesSummary = total === 0 ? 'No minutes in these days.' : `${+total.toFixed(2)} minutes in all; the most on ${shortDay(busiest?.date ?? '')} (${busiest?.minutes} min).`;
  const latencySummary = latest ? `Latest day with speech, ${shortDay(latest.date)}: median ${ms(latest.finalP50Ms)}, 95th percentile ${ms(latest.finalP95Ms)}.` : 'No utterances in these days.';
  return [
    h('h3', { class: 'chart-title' }, 'Minutes per day'),
    h('p', { class: 'console-count', 'data-testid': 'usage-total' }, minutesSummary),
    minutesChart(days, minutesSummary, box),
    h('h3', { class: 'chart-title' }, 'Latency per day (end of speech → final transcript)'),
    h('p', { class: 'console-count', 'data-testid': 'latency-summary' }, latencySummary),
    latencyChart(days.map((d) => ({ date: d.date, p50: d.finalP50Ms, p95: d.finalP95Ms })), latencySummary, box),
    latencyLegend(),
  ];
}

/** Every day's numbers as a table, behind a disclosure (the charts' alternative). */
function usageTable(days: readonly UsageDay[]): HTMLElement {
  return h('details', { class: 'usage-table-details' },
      h('summary', {}, 'The same numbers as a table'),
      h('div', { class: 'console-table-wrap' }, h('table', { class: 'console-table', 'data-testid': 'usage-table' },
        h('caption', { class: 'visually-hidden' }, 'Minutes and latency per day'),
        h('thead', {}, h('tr', {}, ...['Day', 'Minutes', 'Sessions', 'Utterances', 'Final p50', 'Final p95', 'Translation p50', 'Translation p95'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...[...days].reverse().map((d) => h('tr', { 'data-testid': 'usage-row', 'data-date': d.date },
          h('th', { scope: 'row', 'data-label': 'Day' }, d.date),
          h('td', { 'data-label': 'Minutes', 'data-testid': 'usage-minutes' }, String(d.minutes)),
          h('td', { 'data-label': 'Sessions' }, String(d.sessions)),
          h('td', { 'data-label': 'Utterances' }, String(d.utterances)),
          h('td', { 'data-label': 'Final p50', 'data-testid': 'usage-final-p50' }, ms(d.finalP50Ms)),
          h('td', { 'data-label': 'Final p95' }, ms(d.finalP95Ms)),
          h('td', { 'data-label': 'Translation p50' }, ms(d.translationP50Ms)),
          h('td', { 'data-label': 'Translation p95' }, ms(d.translationP95Ms)),
        ))),
      )));
}

function invoiceTable(invoices: readonly Invoice[]): HTMLElement {
  if (invoices.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'invoices-empty' }, 'No invoices yet: Stripe lists them here once the organization has a subscription.');
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'Invoices, newest first'),
    h('thead', {}, h('tr', {}, ...['Number', 'Date', 'Status', 'Paid', 'Invoice'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...invoices.map((i) => h('tr', { 'data-testid': 'invoice-row' },
      h('th', { scope: 'row', 'data-label': 'Number' }, i.number ?? i.id),
      h('td', { 'data-label': 'Date' }, formatWhen(i.createdAt)),
      h('td', { 'data-label': 'Status' }, i.status ?? '—'),
      h('td', { 'data-label': 'Paid' }, `${i.amountPaid.toFixed(2)} ${i.currency}`),
      h('td', { 'data-label': 'Invoice' }, i.hostedInvoiceUrl ? h('a', { href: i.hostedInvoiceUrl, target: '_blank', rel: 'noopener' }, `Open invoice ${i.number ?? i.id}`) : '—'),
    ))),
  );
}

function billingSetup(serverMessage: string): HTMLElement {
  return h('div', { class: 'billing-setup', 'data-testid': 'billing-not-configured' },
    h('p', {}, h('strong', {}, 'Billing is not configured on this server.'), ' Usage is still counted. To list invoices, the operator sets these and restarts Tolk (docs/billing.md):'),
    h('dl', { class: 'capacity-list' }, ...BILLING_SETTINGS.flatMap((s) => [h('dt', {}, h('code', {}, s.name)), h('dd', {}, s.what)])),
    h('p', { class: 'console-footnote' }, `The server said: ${serverMessage}`),
  );
}
