/**
 * Console → Webhooks and engines (docs/console.md "Webhooks and engines"): the organization's
 * webhook endpoint (`GET /v1/webhook_endpoints`; its signing secret is never shown) and its recent
 * deliveries with status, attempts, next retry and each attempt's answer (`GET /v1/webhook_events`);
 * the configured engines with their routes and request health (`GET /api/ops/engines`).
 */
import { getWebhookEndpointUrl, listEngines, listWebhookEvents, type EngineInfo, type WebhookEvent } from '../api/platform-ops';
import { formatWhen } from '../console/format';
import { formatNextAttempt } from '../console/ops-format';
import type { Cleanup } from '../router';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';

const STATUS_LABEL: Record<string, string> = { delivered: 'Delivered', pending: 'Retrying', failed: 'Failed' };

/** Mounts the Webhooks and engines page into `root`. */
export function mountWebhooks(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  const endpointSlot = h('p', { class: 'webhook-endpoint', 'data-testid': 'webhook-endpoint', 'data-loading': true }, 'Loading…');
  const eventsSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'webhook-events', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the deliveries…'));
  const enginesSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'engines', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the engines…'));
  const loadWebhooks = (): void => {
    Promise.all([getWebhookEndpointUrl(ctx.key()), listWebhookEvents(ctx.key())]).then(([url, events]) => {
      if (!alive) return;
      endpointSlot.replaceChildren(...(url
        ? ['Organization endpoint: ', h('code', { 'data-testid': 'webhook-endpoint-url' }, url)]
        : ['No organization endpoint: events go to the webhook_url each call session names (POST /v1/webhook_endpoints sets one).']));
      eventsSlot.removeAttribute('aria-busy');
      replaceChildren(eventsSlot, eventTable(events, Date.now()));
    }, (error: unknown) => alive && ctx.fail('Loading the webhook deliveries', error, loadWebhooks));
  };
  const loadEngines = (): void => {
    listEngines(ctx.key()).then(({ engines, languagePairs }) => {
      if (!alive) return;
      enginesSlot.removeAttribute('aria-busy');
      replaceChildren(enginesSlot, engineTable(engines), h('p', { class: 'console-footnote', 'data-testid': 'engine-pairs' },
        languagePairs.length ? `Language pairs translated: ${languagePairs.join(', ')}.` : 'No translation pair is installed.'));
    }, (error: unknown) => alive && ctx.fail('Loading the engines', error, loadEngines));
  };
  const refresh = (): void => {
    loadWebhooks();
    loadEngines();
  };
  root.append(
    h('section', { class: 'card console-card', 'aria-labelledby': 'webhooks-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'webhooks-title' }, 'Webhook deliveries'),
        h('div', { class: 'card-head-tools' }, h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'webhooks-refresh', onclick: refresh }, icon('refresh'), 'Refresh'))),
      endpointSlot, eventsSlot,
      h('p', { class: 'console-footnote' }, 'A delivery that is not answered 2xx is retried with a doubling delay until TOLK_WEBHOOK_MAX_ATTEMPTS (docs/calls.md "Webhooks"). The signing secret is not shown here.')),
    h('section', { class: 'card console-card', 'aria-labelledby': 'engines-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'engines-title' }, 'Engines')),
      enginesSlot,
      h('p', { class: 'console-footnote' }, 'From TOLK_ENGINES (docs/engines.md); settings such as API keys and URLs are never shown. Health counts requests since this server started.')),
  );
  refresh();
  return () => {
    alive = false;
  };
}

function attemptsOf(e: WebhookEvent): string {
  return e.deliveryAttempts.map((a) => `#${a.attempt} ${a.statusCode ?? (a.error ?? 'no answer')} (${a.durationMs} ms)`).join(', ') || 'None yet';
}

/** The deliveries, newest first; `readAtMs` is when the list was read (epoch ms), for the next retry's "in 8 s". */
function eventTable(events: readonly WebhookEvent[], readAtMs: number): HTMLElement {
  if (events.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'webhooks-empty' }, 'No webhook event yet. Call sessions (spec 004) send them to their webhook_url or the organization endpoint.');
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'Recent webhook events, newest first'),
    h('thead', {}, h('tr', {}, ...['Event', 'Status', 'Attempts', 'Next retry', 'Answers', 'Sent to', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...events.map((e) => h('tr', { 'data-testid': 'webhook-event', 'data-event-id': e.id, 'data-status': e.status },
      h('th', { scope: 'row', 'data-label': 'Event' }, e.type),
      h('td', { 'data-label': 'Status' }, h('span', { class: `status-pill status-${e.status}`, 'data-testid': 'webhook-status' }, STATUS_LABEL[e.status] ?? e.status)),
      h('td', { 'data-label': 'Attempts', 'data-testid': 'webhook-attempts' }, String(e.attempts)),
      h('td', { 'data-label': 'Next retry', 'data-testid': 'webhook-next' }, formatNextAttempt(e.nextAttemptAt, readAtMs)),
      h('td', { 'data-label': 'Answers', 'data-testid': 'webhook-answers' }, attemptsOf(e)),
      h('td', { 'data-label': 'Sent to' }, h('code', {}, e.url)),
      h('td', { 'data-label': 'Created' }, formatWhen(e.createdAt)),
    ))),
  );
}

const KIND_LABEL: Record<string, string> = { stt: 'Speech recognition', mt: 'Translation', tts: 'Speech synthesis', llm: 'Language model' };

function engineTable(engines: readonly EngineInfo[]): HTMLElement {
  if (engines.length === 0) return h('p', { class: 'console-empty' }, 'No engine is configured.');
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'Configured engines with their routes and health'),
    h('thead', {}, h('tr', {}, ...['Engine', 'Kind', 'Module', 'Routes', 'Requests', 'Failures', 'Latency'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...engines.map((e) => h('tr', { 'data-testid': 'engine-row', 'data-engine-id': e.id },
      h('th', { scope: 'row', 'data-label': 'Engine' }, e.id),
      h('td', { 'data-label': 'Kind' }, KIND_LABEL[e.kind] ?? e.kind),
      h('td', { 'data-label': 'Module' }, e.name),
      h('td', { 'data-label': 'Routes', 'data-testid': 'engine-routes' }, e.routes.length ? e.routes.join(', ') : 'Every route of its kind'),
      h('td', { 'data-label': 'Requests', 'data-testid': 'engine-requests' }, e.health ? String(e.health.requests) : 'None yet'),
      h('td', { 'data-label': 'Failures', 'data-testid': 'engine-failures' }, e.health ? `${e.health.failures}${e.health.retries ? ` (${e.health.retries} retried)` : ''}` : '—'),
      h('td', { 'data-label': 'Latency', 'data-testid': 'engine-latency' }, e.health?.meanMs != null ? `mean ${e.health.meanMs} ms${e.health.p95Ms != null ? `, p95 ≤ ${e.health.p95Ms} ms` : ''}` : '—'),
    ))),
  );
}
