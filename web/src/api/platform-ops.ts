/**
 * The console's operations calls (docs/platform.md "Operations", docs/billing.md, docs/calls.md
 * "Webhooks"): live streams and capacity, usage per day, invoices, webhook endpoints and deliveries,
 * engines. Every call goes through `platformRequest` (the key in the Authorization header only) and
 * throws its `PlatformError`.
 */
import { isRecord } from './http';
import { platformRequest } from './platform';

/** A stream running now (`GET /api/ops/live`). */
export interface LiveStream {
  surface: string;
  sourceLanguage: string;
  targetLanguage: string;
  startedAt: string;
  durationMs: number;
}

/** The process's capacity as admission knows it; `budget` is null on a gateway. */
export interface Capacity {
  maxStreams: number;
  streamsHeld: number;
  organizationShare: number;
  budget: {
    budgetCpu: number;
    /** CPU s per s of one stream; null before the first measurement. */
    costPerStreamCpu: number | null;
    capacityStreams: number;
    admitted: number;
    refused: number;
    shed: number;
    waitingFor: string[];
  } | null;
}

/** One UTC day of usage (`GET /api/ops/usage`); latencies in ms, null without utterances. */
export interface UsageDay {
  date: string;
  minutes: number;
  sessions: number;
  utterances: number;
  finalP50Ms: number | null;
  finalP95Ms: number | null;
  translationP50Ms: number | null;
  translationP95Ms: number | null;
}

/** An invoice (`GET /api/billing/invoices`); `amountPaid` in currency units. */
export interface Invoice {
  id: string;
  number: string | null;
  status: string | null;
  amountPaid: number;
  currency: string;
  createdAt: string;
  hostedInvoiceUrl: string | null;
}

/** A webhook event with its delivery attempts (`GET /v1/webhook_events`). */
export interface WebhookEvent {
  id: string;
  type: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed' | string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  deliveryAttempts: Array<{ attempt: number; statusCode: number | null; error: string | null; durationMs: number; at: string }>;
}

/** A configured engine (`GET /api/ops/engines`): never its settings; `health` null before its first request since the server started. */
export interface EngineInfo {
  id: string;
  kind: string;
  name: string;
  routes: string[];
  health: { requests: number; failures: number; retries: number; meanMs: number | null; p95Ms: number | null } | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const records = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v.filter(isRecord) : []);

/** `GET /api/ops/live`. @throws {PlatformError} 403 for a member. */
export async function getLive(key: string): Promise<{ streams: LiveStream[]; capacity: Capacity }> {
  const body = await platformRequest(key, 'GET', '/api/ops/live');
  const b = isRecord(body) ? body : {};
  const c = isRecord(b.capacity) ? b.capacity : {};
  const budget = isRecord(c.budget) ? c.budget : undefined;
  return {
    streams: records(b.streams).map((s) => ({
      surface: str(s.surface), sourceLanguage: str(s.source_language), targetLanguage: str(s.target_language), startedAt: str(s.started_at), durationMs: num(s.duration_ms),
    })),
    capacity: {
      maxStreams: num(c.max_streams), streamsHeld: num(c.streams_held), organizationShare: num(c.organization_share),
      budget: budget ? {
        budgetCpu: num(budget.budget_cpu), costPerStreamCpu: numOrNull(budget.cost_per_stream_cpu), capacityStreams: num(budget.capacity_streams),
        admitted: num(budget.admitted), refused: num(budget.refused), shed: num(budget.shed),
        waitingFor: Array.isArray(budget.waiting_for) ? budget.waiting_for.filter((w): w is string => typeof w === 'string') : [],
      } : null,
    },
  };
}

/** `GET /api/ops/usage?days=`. @throws {PlatformError} 403 for a member. */
export async function getUsage(key: string, days: number): Promise<UsageDay[]> {
  const body = await platformRequest(key, 'GET', `/api/ops/usage?days=${days}`);
  return records(isRecord(body) ? body.days : undefined).map((d) => ({
    date: str(d.date), minutes: num(d.minutes), sessions: num(d.sessions), utterances: num(d.utterances),
    finalP50Ms: numOrNull(d.final_p50_ms), finalP95Ms: numOrNull(d.final_p95_ms),
    translationP50Ms: numOrNull(d.translation_p50_ms), translationP95Ms: numOrNull(d.translation_p95_ms),
  }));
}

/** `GET /api/billing/invoices`. @throws {PlatformError} 501 when Stripe is not configured, 403 for a member. */
export async function listInvoices(key: string): Promise<Invoice[]> {
  const body = await platformRequest(key, 'GET', '/api/billing/invoices');
  return records(isRecord(body) ? body.invoices : undefined).map((i) => ({
    id: str(i.id), number: strOrNull(i.number), status: strOrNull(i.status), amountPaid: num(i.amountPaid), currency: str(i.currency),
    createdAt: str(i.createdAt), hostedInvoiceUrl: strOrNull(i.hostedInvoiceUrl),
  }));
}

/** `GET /v1/webhook_endpoints`: the organization's endpoint URL (null: sessions name their own). The signing secret is not kept. */
export async function getWebhookEndpointUrl(key: string): Promise<string | null> {
  const body = await platformRequest(key, 'GET', '/v1/webhook_endpoints');
  const first = records(isRecord(body) ? body.data : undefined)[0];
  return first ? strOrNull(first.url) : null;
}

/** `GET /v1/webhook_events?limit=`: the newest events with every attempt. @throws {PlatformError} 403 for a member. */
export async function listWebhookEvents(key: string, limit = 20): Promise<WebhookEvent[]> {
  const body = await platformRequest(key, 'GET', `/v1/webhook_events?limit=${limit}`);
  return records(isRecord(body) ? body.data : undefined).map((e) => ({
    id: str(e.id), type: str(e.type), url: str(e.url), status: str(e.status), attempts: num(e.attempts),
    nextAttemptAt: strOrNull(e.next_attempt_at), lastError: strOrNull(e.last_error), createdAt: str(e.created_at),
    deliveryAttempts: records(e.delivery_attempts).map((a) => ({
      attempt: num(a.attempt), statusCode: numOrNull(a.status_code), error: strOrNull(a.error), durationMs: num(a.duration_ms), at: str(a.at),
    })),
  }));
}

/** `GET /api/ops/engines`. @throws {PlatformError} 403 for a member. */
export async function listEngines(key: string): Promise<{ engines: EngineInfo[]; languagePairs: string[] }> {
  const body = await platformRequest(key, 'GET', '/api/ops/engines');
  const b = isRecord(body) ? body : {};
  return {
    engines: records(b.engines).map((e) => {
      const h = isRecord(e.health) ? e.health : undefined;
      return {
        id: str(e.id), kind: str(e.kind), name: str(e.name), routes: Array.isArray(e.routes) ? e.routes.filter((r): r is string => typeof r === 'string') : [],
        health: h ? { requests: num(h.requests), failures: num(h.failures), retries: num(h.retries), meanMs: numOrNull(h.mean_ms), p95Ms: numOrNull(h.p95_ms) } : null,
      };
    }),
    languagePairs: Array.isArray(b.language_pairs) ? b.language_pairs.filter((p): p is string => typeof p === 'string') : [],
  };
}
