/**
 * Console → Live (docs/console.md "Live"): the organization's streams running now (surface,
 * languages, started, duration) and the server's capacity as admission knows it, from
 * `GET /api/ops/live`, polled every 2 s while the page is visible; polling stops when the tab is
 * hidden or the page is left.
 */
import { getLive, type Capacity, type LiveStream } from '../api/platform-ops';
import { formatWhen } from '../console/format';
import { formatDuration } from '../console/ops-format';
import type { Cleanup } from '../router';
import { h, replaceChildren } from '../ui/dom';
import type { ConsoleContext } from './console';

/** How often the page asks again while it is visible, in ms. */
export const LIVE_POLL_MS = 2000;

/** Mounts the Live page into `root`. */
export function mountLive(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  let timer: number | undefined;
  const streamsSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'live-streams', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the streams…'));
  const capacitySlot = h('div', { class: 'capacity-wrap', 'data-testid': 'live-capacity' });
  const updated = h('p', { class: 'console-footnote', 'data-testid': 'live-updated', 'aria-live': 'off' });
  const schedule = (): void => {
    window.clearTimeout(timer);
    if (alive && document.visibilityState === 'visible') timer = window.setTimeout(poll, LIVE_POLL_MS);
  };
  const poll = (): void => {
    getLive(ctx.key()).then(({ streams, capacity }) => {
      if (!alive) return;
      streamsSlot.removeAttribute('aria-busy');
      replaceChildren(streamsSlot, streamTable(streams));
      replaceChildren(capacitySlot, capacityList(capacity));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}, every ${LIVE_POLL_MS / 1000} s while this page is open.`;
      schedule();
    }, (error: unknown) => {
      // A refusal stops the polling; Retry starts it again. What was shown is no longer "now".
      if (!alive) return;
      replaceChildren(streamsSlot, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the streams…'));
      replaceChildren(capacitySlot);
      updated.textContent = '';
      ctx.fail('Loading the live streams', error, poll);
    });
  };
  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') poll();
    else window.clearTimeout(timer);
  };
  document.addEventListener('visibilitychange', onVisibility);
  root.append(
    h('section', { class: 'card console-card', 'aria-labelledby': 'live-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'live-title' }, 'Streams running now')),
      streamsSlot, updated),
    h('section', { class: 'card console-card', 'aria-labelledby': 'capacity-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'capacity-title' }, 'Server capacity')),
      capacitySlot,
      h('p', { class: 'console-footnote' }, 'Streams of this server process; the real-time budget admits a stream while its measured CPU cost fits (docs/deploy.md "Capacity").')),
  );
  poll();
  return () => {
    alive = false;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

function streamTable(streams: readonly LiveStream[]): HTMLElement {
  if (streams.length === 0) {
    return h('p', { class: 'console-empty', 'data-testid': 'live-empty' }, 'No stream of this organization is running now. Streams appear here within 2 s of starting.');
  }
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'Streams of this organization running now'),
    h('thead', {}, h('tr', {}, ...['Surface', 'Languages', 'Started', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...streams.map((s) => h('tr', { 'data-testid': 'live-stream' },
      h('th', { scope: 'row', 'data-label': 'Surface', 'data-testid': 'live-surface' }, s.surface),
      h('td', { 'data-label': 'Languages', 'data-testid': 'live-languages' }, `${s.sourceLanguage} → ${s.targetLanguage}`),
      h('td', { 'data-label': 'Started' }, formatWhen(s.startedAt)),
      h('td', { 'data-label': 'Duration', 'data-testid': 'live-duration' }, formatDuration(s.durationMs)),
    ))),
  );
}

function capacityList(c: Capacity): HTMLElement {
  const row = (label: string, value: string, testId: string): HTMLElement[] => [h('dt', {}, label), h('dd', { 'data-testid': testId }, value)];
  const b = c.budget;
  return h('dl', { class: 'capacity-list' },
    ...row('Streams on this server', `${c.streamsHeld} of ${c.maxStreams} (TOLK_MAX_STREAMS)`, 'capacity-held'),
    ...row('Most one organization may hold', String(c.organizationShare), 'capacity-share'),
    ...(b ? [
      ...row('Admitted and live', `${b.admitted} of ${b.capacityStreams} that fit the budget now`, 'capacity-admitted'),
      ...row('Refused (budget spent, since start)', String(b.refused), 'capacity-refused'),
      ...row('Ended for falling behind (since start)', String(b.shed), 'capacity-shed'),
      ...row('CPU cost per stream', b.costPerStreamCpu === null ? 'Not measured yet' : `${b.costPerStreamCpu.toFixed(3)} CPU s per s of audio`, 'capacity-cost'),
      ...row('Budget', `${b.budgetCpu.toFixed(2)} CPU s per s (cores × target utilisation)`, 'capacity-budget'),
      ...(b.waitingFor.length ? row('Waiting for', b.waitingFor.join(', '), 'capacity-waiting') : []),
    ] : row('Real-time budget', 'Kept by the workers (this process is a gateway): see their /metrics', 'capacity-gateway')),
  );
}
