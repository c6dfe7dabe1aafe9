import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, lte, or, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { callWebhookAttempts, callWebhookEndpoints, callWebhookEvents } from '../../db/schema.js';
import { newId } from '../api-keys.js';

/**
 * Webhook events of the calls surface (vendor docs "Webhooks", "Webhook Signatures"): the envelope
 * `{id, type, api_version, created_at, data}`, signed with the organization's secret in a
 * `Kallglot-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">` header. Events are stored
 * before they are sent, so delivery is at least once and an event keeps its id across retries.
 */

/** Event types Tolk sends (docs/calls.md "Webhooks"). */
export type CallWebhookEventType =
  | 'session.created' | 'session.started' | 'session.ended'
  | 'session.provider.connected' | 'session.provider.disconnected'
  | 'transcript.ready' | 'transcript.segment'
  | 'recording.ready' | 'recording.failed';

/** The signature header's name, as the vendor documents it. */
export const SIGNATURE_HEADER = 'Kallglot-Signature';
/** `api_version` of every envelope. */
export const WEBHOOK_API_VERSION = 'v1';

/** An organization's webhook endpoint (`wh_…`). */
export type WebhookEndpoint = typeof callWebhookEndpoints.$inferSelect;
/** A stored webhook event. */
export type WebhookEventRow = typeof callWebhookEvents.$inferSelect;
/** One delivery attempt. */
export type WebhookAttemptRow = typeof callWebhookAttempts.$inferSelect;

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/** The organization's endpoint, created (without a URL, with a new secret) when it has none. */
export async function ensureWebhookEndpoint(db: Database, organizationId: string): Promise<WebhookEndpoint> {
  await db.insert(callWebhookEndpoints).values({ id: newId('wh'), organizationId, url: null, secret: newSecret() }).onConflictDoNothing();
  const rows = await db.select().from(callWebhookEndpoints).where(eq(callWebhookEndpoints.organizationId, organizationId)).limit(1);
  if (!rows[0]) throw new Error(`no webhook endpoint for ${organizationId}`);
  return rows[0];
}

/** The organization's endpoint, or undefined when it has none. */
export async function findWebhookEndpoint(db: Database, organizationId: string): Promise<WebhookEndpoint | undefined> {
  const rows = await db.select().from(callWebhookEndpoints).where(eq(callWebhookEndpoints.organizationId, organizationId)).limit(1);
  return rows[0];
}

/** Sets the organization's endpoint URL (null: sessions' own `webhook_url` only); the secret stays. */
export async function setWebhookEndpointUrl(db: Database, organizationId: string, url: string | null): Promise<WebhookEndpoint> {
  await ensureWebhookEndpoint(db, organizationId);
  const rows = await db.update(callWebhookEndpoints).set({ url }).where(eq(callWebhookEndpoints.organizationId, organizationId)).returning();
  return rows[0] as WebhookEndpoint;
}

/** Replaces the organization's signing secret; events not yet delivered are signed with the new one. */
export async function rollWebhookSecret(db: Database, organizationId: string): Promise<WebhookEndpoint> {
  await ensureWebhookEndpoint(db, organizationId);
  const rows = await db.update(callWebhookEndpoints).set({ secret: newSecret() }).where(eq(callWebhookEndpoints.organizationId, organizationId)).returning();
  return rows[0] as WebhookEndpoint;
}

/** ISO 8601 UTC to the second, as the vendor's examples (`2026-03-26T11:04:20Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Stores an event for `url` (status `pending`, due now). The body is serialized once here, so
 * every retry sends the same bytes with the same `id`.
 */
export async function recordWebhookEvent(
  db: Database, input: { organizationId: string; sessionId: string | null; type: CallWebhookEventType; data: Record<string, unknown>; url: string },
): Promise<WebhookEventRow> {
  const id = newId('evt');
  const createdAt = new Date();
  const body = JSON.stringify({ id, type: input.type, api_version: WEBHOOK_API_VERSION, created_at: isoSeconds(createdAt), data: input.data });
  const rows = await db.insert(callWebhookEvents).values({
    id, organizationId: input.organizationId, sessionId: input.sessionId, type: input.type, body, url: input.url,
    status: 'pending', nextAttemptAt: createdAt, createdAt,
  }).returning();
  return rows[0] as WebhookEventRow;
}

/** `Kallglot-Signature` value for `body` sent at `timestampS` (unix seconds). */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${v1}`;
}

/**
 * Verifies a `Kallglot-Signature` header as a receiver does (constant-time compare; `toleranceS`
 * bounds the timestamp's age against replays).
 */
export function verifyWebhookSignature(secret: string, header: string, body: string, toleranceS = 300, nowS = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, t, body).split('v1=')[1] ?? '', 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** One event with the secret to sign it, for a delivery attempt; undefined when unknown. */
export async function loadEventForDelivery(db: Database, eventId: string): Promise<{ event: WebhookEventRow; secret: string } | undefined> {
  const rows = await db.select().from(callWebhookEvents).where(eq(callWebhookEvents.id, eventId)).limit(1);
  const event = rows[0];
  if (!event) return undefined;
  const endpoint = await ensureWebhookEndpoint(db, event.organizationId);
  return { event, secret: endpoint.secret };
}

/** The outcome of one attempt, as {@link recordWebhookAttempt} stores it. */
export interface AttemptOutcome {
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** `delivered` (2xx), `retry` at `nextAttemptAt`, or `failed` (no attempts left). */
  result: 'delivered' | 'retry' | 'failed';
  nextAttemptAt?: Date | undefined;
}

/** Stores an attempt and the event's new state. */
export async function recordWebhookAttempt(db: Database, eventId: string, outcome: AttemptOutcome): Promise<void> {
  await db.insert(callWebhookAttempts).values({
    eventId, attempt: outcome.attempt, statusCode: outcome.statusCode, error: outcome.error, durationMs: Math.round(outcome.durationMs),
  }).onConflictDoNothing();
  const status = outcome.result === 'retry' ? 'pending' : outcome.result;
  await db.update(callWebhookEvents).set({
    status, attempts: outcome.attempt, lastError: outcome.error, nextAttemptAt: outcome.result === 'retry' ? (outcome.nextAttemptAt ?? null) : null,
    ...(outcome.result === 'delivered' ? { deliveredAt: new Date() } : {}),
  }).where(eq(callWebhookEvents.id, eventId));
}

/** Where a page of {@link dueWebhookEvents} ends: the last event's creation time and id. */
export interface WebhookEventCursor {
  createdAt: Date;
  id: string;
}

/**
 * One page of the events still to deliver whose next attempt is due by `before` (recovery after a
 * restart), oldest first; pass the last row's `{createdAt, id}` as `after` for the next page. Paging
 * by key, not offset, so events delivered meanwhile never make the next page skip others.
 */
export async function dueWebhookEvents(db: Database, before: Date, limit = 500, after?: WebhookEventCursor): Promise<WebhookEventRow[]> {
  const due = and(eq(callWebhookEvents.status, 'pending'), or(isNull(callWebhookEvents.nextAttemptAt), lte(callWebhookEvents.nextAttemptAt, before)));
  const page = after
    ? and(due, or(gt(callWebhookEvents.createdAt, after.createdAt), and(eq(callWebhookEvents.createdAt, after.createdAt), gt(callWebhookEvents.id, after.id))))
    : due;
  return db.select().from(callWebhookEvents).where(page)
    .orderBy(asc(callWebhookEvents.createdAt), asc(callWebhookEvents.id)).limit(limit);
}

/** An organization's recent events (newest first) with their attempts, for the operator. */
export async function listWebhookEvents(
  db: Database, organizationId: string, filter: { sessionId?: string | undefined; limit: number },
): Promise<Array<WebhookEventRow & { attemptLog: WebhookAttemptRow[] }>> {
  const where = filter.sessionId
    ? and(eq(callWebhookEvents.organizationId, organizationId), eq(callWebhookEvents.sessionId, filter.sessionId))
    : eq(callWebhookEvents.organizationId, organizationId);
  const events = await db.select().from(callWebhookEvents).where(where).orderBy(desc(callWebhookEvents.createdAt)).limit(filter.limit);
  if (events.length === 0) return [];
  const attempts = await db.select().from(callWebhookAttempts).where(inArray(callWebhookAttempts.eventId, events.map((e) => e.id))).orderBy(asc(callWebhookAttempts.attempt));
  return events.map((e) => ({ ...e, attemptLog: attempts.filter((a) => a.eventId === e.id) }));
}

/** The types of the webhook events stored for a session (to send what a crash left unsent once). */
export async function sessionWebhookEventTypes(db: Database, sessionId: string): Promise<Set<string>> {
  const rows = await db.select({ type: callWebhookEvents.type }).from(callWebhookEvents).where(eq(callWebhookEvents.sessionId, sessionId));
  return new Set(rows.map((r) => r.type));
}
