import { and, count, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { sessionParticipants, sessions, utterances } from '../db/schema.js';
import { primaryLanguage } from '../common/language-tags.js';
import { newId, type Role } from './api-keys.js';

/** A language pair the installed engines offer: primary subtags, and whether the target has a voice. */
export interface OfferedPair {
  source: string;
  target: string;
  speech: boolean;
}

/** Session status of spec 000 "Sessions": `created` → `active` (first stream) → `completed` (last stream closed). */
export type SessionStatus = 'created' | 'active' | 'completed';

/** A session row as the domain hands it out. */
export type SessionRecord = typeof sessions.$inferSelect;

/** A participant of a session. `userId` is `usr_…`; `revokedAt` set once revoked (spec 000 "revoke"). */
export type ParticipantRecord = typeof sessionParticipants.$inferSelect;

/**
 * Checks a session's language pair against what the installed engines can do together (STT for the
 * source, MT from source to target, a synthesized voice for the target); never a hard-coded list.
 * @param pairs - the engines' pairs (primary subtags; `speech` when the target has a voice), from
 *   `supportedPairs` of the provider registry.
 * @returns a description naming the problem and the supported values, or undefined when usable.
 */
export function sessionLanguageProblem(pairs: readonly OfferedPair[], sourceLang: string, targetLang: string): string | undefined {
  const s = primaryLanguage(sourceLang);
  const t = primaryLanguage(targetLang);
  if (!pairs.some((p) => p.source === s)) {
    return `Unsupported source_lang "${sourceLang}"; supported: ${[...new Set(pairs.map((p) => p.source))].join(', ')}`;
  }
  const pair = pairs.find((p) => p.source === s && p.target === t);
  if (!pair) {
    return `Unsupported target_lang "${targetLang}" for source ${s}; supported: ${pairs.filter((p) => p.source === s).map((p) => p.target).join(', ')}`;
  }
  if (!pair.speech) return `Unsupported target_lang "${targetLang}": no synthesized voice is installed for it`;
  return undefined;
}

/** Options of {@link createSession}. */
export interface CreateSessionOptions {
  organizationId: string;
  createdByKeyId: string;
  /** BCP-47 tags, already checked with {@link sessionLanguageProblem}. */
  sourceLang: string;
  targetLang: string;
  speakerName: string;
  /** The creator's role in the organization; the creator becomes the first participant with it. */
  creatorRole: Role;
  /** The creating key's mode (default `live`): a `test` session's usage is never charged. */
  mode?: 'live' | 'test' | undefined;
  /** The LiveKit room of the session (default: the session id; spec 001 rooms are `api-…`). */
  roomName?: string | undefined;
}

/**
 * Creates a session in status `created` and its creator as participant (spec 000 `POST
 * /api/sessions`, and the session behind a spec-001 room). The LiveKit room is named after the
 * session (`roomName` = session id) unless `roomName` is given.
 * @returns the session and the creator's participant id (`usr_…`).
 */
export async function createSession(db: Database, o: CreateSessionOptions): Promise<{ session: SessionRecord; participantId: string }> {
  const id = newId('sess');
  const participantId = newId('usr');
  const [session] = await db.insert(sessions).values({
    id, organizationId: o.organizationId, createdByKeyId: o.createdByKeyId, sourceLang: o.sourceLang, targetLang: o.targetLang,
    speakerName: o.speakerName, status: 'created', roomName: o.roomName ?? id, mode: o.mode ?? 'live',
  }).returning();
  if (!session) throw new Error('session insert returned no row');
  await db.insert(sessionParticipants).values({ sessionId: id, userId: participantId, role: o.creatorRole, speakerName: o.speakerName });
  return { session, participantId };
}

/**
 * A session of one of `organizationIds`, or undefined — another organization's session is
 * indistinguishable from a missing one (tenant isolation, spec 000 404 "not accessible").
 */
export async function findSession(db: Database, organizationIds: readonly string[], sessionId: string): Promise<SessionRecord | undefined> {
  if (organizationIds.length === 0) return undefined;
  const rows = await db.select().from(sessions).where(and(eq(sessions.id, sessionId), inArray(sessions.organizationId, [...organizationIds]))).limit(1);
  return rows[0];
}

/**
 * One page of an organization's sessions, newest first (spec 000 `GET /api/sessions`).
 * @param page.limit - 1…100; page.offset ≥ 0.
 * @returns the page and the organization's total number of sessions.
 */
export async function listSessions(db: Database, organizationId: string, page: { limit: number; offset: number }): Promise<{ sessions: SessionRecord[]; total: number }> {
  const rows = await db.select().from(sessions).where(eq(sessions.organizationId, organizationId))
    .orderBy(desc(sessions.createdAt), desc(sessions.id)).limit(page.limit).offset(page.offset);
  const [totalRow] = await db.select({ n: count() }).from(sessions).where(eq(sessions.organizationId, organizationId));
  return { sessions: rows, total: totalRow?.n ?? 0 };
}

/** An active session with its participants that are not revoked. */
export interface ActiveSession {
  session: SessionRecord;
  participants: Array<{ userId: string; role: Role }>;
}

/** The organization's sessions in status `active`, most recently started first (spec 000 `GET /api/sessions/active`). */
export async function listActiveSessions(db: Database, organizationId: string): Promise<ActiveSession[]> {
  const rows = await db.select().from(sessions).where(and(eq(sessions.organizationId, organizationId), eq(sessions.status, 'active')))
    .orderBy(desc(sessions.startedAt), desc(sessions.id));
  if (rows.length === 0) return [];
  const people = await db.select().from(sessionParticipants)
    .where(and(inArray(sessionParticipants.sessionId, rows.map((r) => r.id)), isNull(sessionParticipants.revokedAt)))
    .orderBy(sessionParticipants.userId);
  return rows.map((session) => ({
    session,
    participants: people.filter((p) => p.sessionId === session.id).map((p) => ({ userId: p.userId, role: p.role })),
  }));
}

/** A participant of a session, or undefined. */
export async function findParticipant(db: Database, sessionId: string, userId: string): Promise<ParticipantRecord | undefined> {
  const rows = await db.select().from(sessionParticipants)
    .where(and(eq(sessionParticipants.sessionId, sessionId), eq(sessionParticipants.userId, userId))).limit(1);
  return rows[0];
}

/** Marks a participant revoked now; revoking twice keeps the first time. */
export async function revokeParticipant(db: Database, sessionId: string, userId: string): Promise<void> {
  await db.update(sessionParticipants).set({ revokedAt: new Date() })
    .where(and(eq(sessionParticipants.sessionId, sessionId), eq(sessionParticipants.userId, userId), isNull(sessionParticipants.revokedAt)));
}

/** Records that a participant's stream started: `joined_at` the first time. */
export async function markParticipantJoined(db: Database, sessionId: string, userId: string): Promise<void> {
  await db.update(sessionParticipants).set({ joinedAt: new Date() })
    .where(and(eq(sessionParticipants.sessionId, sessionId), eq(sessionParticipants.userId, userId), isNull(sessionParticipants.joinedAt)));
}

/** `created` → `active` with `started_at` = now, on the session's first stream; no-op otherwise. */
export async function markSessionActive(db: Database, sessionId: string): Promise<void> {
  await db.update(sessions).set({ status: 'active', startedAt: new Date() }).where(and(eq(sessions.id, sessionId), eq(sessions.status, 'created')));
}

/** `active` → `completed` with `ended_at` = now, when the session's last live stream closed; no-op otherwise. */
export async function markSessionCompleted(db: Database, sessionId: string): Promise<void> {
  await db.update(sessions).set({ status: 'completed', endedAt: new Date() }).where(and(eq(sessions.id, sessionId), eq(sessions.status, 'active')));
}

/**
 * `created` → `completed` for a session that never started and never will (its room could not
 * get an interpreter): listed as completed with a duration of 0, not left open. No-op otherwise.
 */
export async function abandonSession(db: Database, sessionId: string): Promise<void> {
  await db.update(sessions).set({ status: 'completed', endedAt: new Date() }).where(and(eq(sessions.id, sessionId), eq(sessions.status, 'created')));
}

/**
 * Completes every `active` session at once: for a process that owns its database alone (embedded
 * PGlite, or Postgres without Redis) and starts, every such session was left by a process that
 * died without closing its streams (docs/sessions.md). The process's death time is unknown, so
 * `ended_at` is the last moment the session is known to have been live: the end of its last
 * recorded utterance, or `started_at` when it has none.
 * @returns the ids completed.
 */
export async function completeSessionsLeftActive(db: Database): Promise<string[]> {
  const lastUtteranceEnd = sql`(select max(${utterances.startedAt} + ${utterances.durationMs} * interval '1 millisecond') from ${utterances} where ${utterances.sessionId} = ${sessions.id})`;
  const rows = await db.update(sessions)
    .set({ status: 'completed', endedAt: sql`greatest(coalesce(${sessions.startedAt}, ${sessions.createdAt}), ${lastUtteranceEnd})` })
    .where(eq(sessions.status, 'active'))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
}

/**
 * Ids of `active` sessions that started before `startedBefore`, oldest first (at most `limit`):
 * the candidates of the orphaned-session sweep (a gateway died holding their last stream).
 */
export async function activeSessionIds(db: Database, startedBefore: Date, limit = 200): Promise<string[]> {
  const rows = await db.select({ id: sessions.id }).from(sessions)
    .where(and(eq(sessions.status, 'active'), lt(sessions.startedAt, startedBefore)))
    .orderBy(sessions.startedAt).limit(limit);
  return rows.map((r) => r.id);
}

/** Adds audio received over the session's streams to its usage (`usage_ms`), in ms. */
export async function addSessionUsage(db: Database, sessionId: string, audioMs: number): Promise<void> {
  const ms = Math.round(audioMs);
  if (ms <= 0) return;
  await db.update(sessions).set({ usageMs: sql`${sessions.usageMs} + ${ms}` }).where(eq(sessions.id, sessionId));
}

/**
 * Wall-clock length of a session in whole seconds: `ended_at − started_at` once completed, time
 * since `started_at` while active, 0 before it started (spec 000 shows a number; docs/sessions.md).
 */
export function sessionDurationSeconds(session: SessionRecord, now: Date = new Date()): number {
  if (!session.startedAt) return 0;
  const end = session.endedAt ?? now;
  return Math.max(0, Math.round((end.getTime() - session.startedAt.getTime()) / 1000));
}
