import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { apiKeys, callSessions } from '../../db/schema.js';
import { keyFingerprint, newId, type KeyPrincipal } from '../api-keys.js';
import type { CallLeg, CallMode, CallProvider, CallSession, CallSessionStatus, ProviderStatus, RecordingChannels } from './model.js';

/** A call session row as stored. */
export type CallSessionRow = typeof callSessions.$inferSelect;

/** A call session with what only its owner and the stream socket see. */
export interface StoredCallSession extends CallSession {
  createdByKeyId: string;
  keyMode: 'live' | 'test';
  streamToken: string;
  streamExpiresAt: Date;
  endReason: string | null;
  transcription: Record<string, unknown> | null;
  aiAgent: Record<string, unknown> | null;
}

/** What {@link createCallSession} stores (already validated by the surface). */
export interface NewCallSession {
  organizationId: string;
  createdByKeyId: string;
  keyMode: 'live' | 'test';
  mode: CallMode;
  sourceLanguage: string;
  targetLanguage: string;
  provider: { type: 'twilio'; phoneNumber: string | null; callSid: string | null } | null;
  recording: { enabled: boolean; channels: RecordingChannels };
  transcription: Record<string, unknown> | null;
  aiAgent: Record<string, unknown> | null;
  metadata: Record<string, string> | null;
  webhookUrl: string | null;
  /** Lifetime of the stream token, in seconds. */
  streamTokenTtlS: number;
}

interface StoredProvider {
  type: 'twilio';
  phone_number: string | null;
  call_sid: string | null;
  status: ProviderStatus;
  provider_call_id?: string | null;
}

/** A new stream token: `kst_live_…` / `kst_test_…` and 32 random characters (spec 004 `stream.token`). */
export function newStreamToken(mode: 'live' | 'test'): string {
  return `kst_${mode}_${randomBytes(24).toString('base64url')}`;
}

/** Maps a stored row to the domain model. */
export function toCallSession(row: CallSessionRow): StoredCallSession {
  const p = row.provider as StoredProvider | null;
  const provider: CallProvider | null = p ? { type: p.type, phoneNumber: p.phone_number, callSid: p.call_sid ?? p.provider_call_id ?? null, status: p.status } : null;
  return {
    id: row.id, organizationId: row.organizationId, mode: row.mode, status: row.status,
    sourceLanguage: row.sourceLanguage, targetLanguage: row.targetLanguage, provider,
    recording: { enabled: row.recordingEnabled, channels: row.recordingChannels },
    metadata: (row.metadata as Record<string, string> | null) ?? null, webhookUrl: row.webhookUrl,
    createdAt: row.createdAt, startedAt: row.startedAt, endedAt: row.endedAt,
    createdByKeyId: row.createdByKeyId, keyMode: row.keyMode, streamToken: row.streamToken, streamExpiresAt: row.streamExpiresAt,
    endReason: row.endReason, transcription: (row.transcription as Record<string, unknown> | null) ?? null,
    aiAgent: (row.aiAgent as Record<string, unknown> | null) ?? null,
  };
}

/**
 * Stores a new call session (spec 004 `POST /v1/sessions`): status `created`, provider `pending`,
 * a new stream token valid for `streamTokenTtlS`.
 */
export async function createCallSession(db: Database, input: NewCallSession): Promise<StoredCallSession> {
  const provider: StoredProvider | null = input.provider
    ? { type: input.provider.type, phone_number: input.provider.phoneNumber, call_sid: input.provider.callSid, status: 'pending' }
    : null;
  const rows = await db.insert(callSessions).values({
    id: newId('sess'), organizationId: input.organizationId, createdByKeyId: input.createdByKeyId, keyMode: input.keyMode,
    mode: input.mode, status: 'created', sourceLanguage: input.sourceLanguage, targetLanguage: input.targetLanguage,
    provider, recordingEnabled: input.recording.enabled, recordingChannels: input.recording.channels,
    transcription: input.transcription, aiAgent: input.aiAgent, metadata: input.metadata, webhookUrl: input.webhookUrl,
    streamToken: newStreamToken(input.keyMode), streamExpiresAt: new Date(Date.now() + input.streamTokenTtlS * 1000),
  }).returning();
  return toCallSession(rows[0] as CallSessionRow);
}

/** The session `id` of `organizationId`; undefined when unknown or another organization's (indistinguishable). */
export async function findCallSession(db: Database, organizationId: string, id: string): Promise<StoredCallSession | undefined> {
  const rows = await db.select().from(callSessions).where(and(eq(callSessions.id, id), eq(callSessions.organizationId, organizationId))).limit(1);
  return rows[0] ? toCallSession(rows[0]) : undefined;
}

/**
 * One page of `organizationId`'s call sessions, newest first (`GET /v1/sessions`, docs/calls.md
 * "List sessions"), optionally only those in `status`.
 * @param page.limit - 1…100; `hasMore` says whether older sessions follow.
 * @throws {Error} when the database fails.
 */
export async function listCallSessions(
  db: Database, organizationId: string, page: { limit: number; status?: CallSessionStatus | undefined },
): Promise<{ sessions: StoredCallSession[]; hasMore: boolean }> {
  const where = page.status ? and(eq(callSessions.organizationId, organizationId), eq(callSessions.status, page.status)) : eq(callSessions.organizationId, organizationId);
  const rows = await db.select().from(callSessions).where(where).orderBy(desc(callSessions.createdAt), desc(callSessions.id)).limit(page.limit + 1);
  return { sessions: rows.slice(0, page.limit).map(toCallSession), hasMore: rows.length > page.limit };
}

/** The session `id` whatever its organization (stream socket, telephony); undefined when unknown. */
export async function getCallSessionById(db: Database, id: string): Promise<StoredCallSession | undefined> {
  const rows = await db.select().from(callSessions).where(eq(callSessions.id, id)).limit(1);
  return rows[0] ? toCallSession(rows[0]) : undefined;
}

/**
 * Moves a session forward: `created` → `connecting` → `active` → `ended`, never back. Sets
 * `started_at` when it becomes active and `ended_at` (with `end_reason`) when it ends.
 * @returns the session after the change, and whether this call changed it (false: already there or past).
 */
export async function advanceCallSession(
  db: Database, id: string, to: Exclude<CallSessionStatus, 'created'>, endReason?: string,
): Promise<{ session: StoredCallSession; changed: boolean } | undefined> {
  const from: CallSessionStatus[] = to === 'connecting' ? ['created'] : to === 'active' ? ['created', 'connecting'] : ['created', 'connecting', 'active'];
  const now = new Date();
  const set: Partial<typeof callSessions.$inferInsert> = { status: to };
  if (to === 'active') set.startedAt = now;
  if (to === 'ended') Object.assign(set, { endedAt: now, endReason: endReason ?? 'completed' });
  const updated = await db.update(callSessions).set(set)
    .where(and(eq(callSessions.id, id), sql`${callSessions.status} in (${sql.join(from.map((f) => sql`${f}`), sql`, `)})`))
    .returning();
  if (updated[0]) return { session: toCallSession(updated[0]), changed: true };
  const current = await getCallSessionById(db, id);
  return current ? { session: current, changed: false } : undefined;
}

/**
 * Records the provider's status (and its call id) on a session with a provider; sessions without
 * one get a `twilio` provider object (an inbound call attached later).
 * @returns the session after the change, or undefined when unknown.
 */
export async function setProviderStatus(db: Database, id: string, status: ProviderStatus, providerCallId?: string): Promise<StoredCallSession | undefined> {
  const current = await getCallSessionById(db, id);
  if (!current) return undefined;
  const p = current.provider;
  const provider: StoredProvider = {
    type: 'twilio', phone_number: p?.phoneNumber ?? null, call_sid: providerCallId ?? p?.callSid ?? null, status,
  };
  const rows = await db.update(callSessions).set({ provider }).where(eq(callSessions.id, id)).returning();
  return rows[0] ? toCallSession(rows[0]) : undefined;
}

/** Seconds between the session's start (or creation) and its end (or now), 0.1 s precision (spec 004 `duration`). */
export function sessionDurationS(session: CallSession, now = new Date()): number {
  const start = session.startedAt ?? session.createdAt;
  const end = session.endedAt ?? now;
  return Math.max(0, Math.round((end.getTime() - start.getTime()) / 100) / 10);
}

/** The leg that hears `leg` (the other participant). */
export function otherLeg(leg: CallLeg): CallLeg {
  return leg === 'customer' ? 'agent' : 'customer';
}

/** The language `leg` speaks: the customer speaks `source_language`, the agent `target_language`. */
export function legLanguage(session: Pick<CallSession, 'sourceLanguage' | 'targetLanguage'>, leg: CallLeg): string {
  return leg === 'customer' ? session.sourceLanguage : session.targetLanguage;
}

/**
 * The principal a session's streams run under: the API key that created it, as it is now.
 * @returns undefined when that key was deleted (its sessions' streams are refused, 401).
 */
export async function sessionPrincipal(db: Database, session: Pick<StoredCallSession, 'createdByKeyId'>): Promise<KeyPrincipal | undefined> {
  const rows = await db.select().from(apiKeys).where(and(eq(apiKeys.id, session.createdByKeyId), isNull(apiKeys.revokedAt))).limit(1);
  const row = rows[0];
  if (!row) return undefined;
  return { keyId: row.id, organizationId: row.organizationId, role: row.role, mode: row.mode, keyFingerprint: keyFingerprint(row.keyHash) };
}

/**
 * Expires the stream tokens of the live call sessions API key `keyId` created (it was rotated or
 * deleted, docs/security.md): their `stream.url` no longer accepts them.
 * @returns how many sessions' tokens expired.
 */
export async function expireStreamTokensOfKey(db: Database, keyId: string, now = new Date()): Promise<number> {
  const rows = await db.update(callSessions).set({ streamExpiresAt: now })
    .where(and(eq(callSessions.createdByKeyId, keyId), ne(callSessions.status, 'ended'), gt(callSessions.streamExpiresAt, now)))
    .returning({ id: callSessions.id });
  return rows.length;
}
