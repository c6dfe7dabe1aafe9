import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { phoneCalls, sessionParticipants, sessions, utterances } from '../db/schema.js';
import { newId } from './api-keys.js';

/**
 * Outbound phone calls of a session (spec 000 `POST /api/sessions/:id/phone/start`, docs/phone.md):
 * the call row, its status as the provider's webhooks report it, and the call's final transcripts,
 * stored as utterances of the session so they count in its intelligence like any other speaker's.
 */

/** A stored phone call. */
export type PhoneCallRecord = typeof phoneCalls.$inferSelect;

/** Who spoke on a call: the callee (`user`) or the provider's assistant (`assistant`). */
export type PhoneSpeaker = 'user' | 'assistant';

/** Records a call the provider accepted, in status `initiated`. */
export async function recordPhoneCall(db: Database, call: {
  callId: string; sessionId: string; organizationId: string; provider: string; phoneNumber: string;
  assistantId?: string | undefined; createdByKeyId?: string | undefined;
}): Promise<void> {
  await db.insert(phoneCalls).values({
    id: call.callId, sessionId: call.sessionId, organizationId: call.organizationId, provider: call.provider,
    phoneNumber: call.phoneNumber, assistantId: call.assistantId ?? null, status: 'initiated', createdByKeyId: call.createdByKeyId ?? null,
  });
}

/** The call with the provider's id, or undefined. */
export async function findPhoneCall(db: Database, callId: string): Promise<PhoneCallRecord | undefined> {
  const [row] = await db.select().from(phoneCalls).where(eq(phoneCalls.id, callId)).limit(1);
  return row;
}

/** A status change reported by the provider. */
export interface PhoneCallUpdate {
  /** The provider's status (`queued`, `ringing`, `in-progress`, `forwarding`, `ended`). */
  status: string;
  endedReason?: string | undefined;
  /** When the call connected; kept from the first report. */
  startedAt?: Date | undefined;
  /** When the call ended; kept from the first report. */
  endedAt?: Date | undefined;
}

/**
 * Applies a status report. An ended call stays ended (a late `ringing` does not revive it); start
 * and end instants and the end reason are kept from their first report.
 */
export async function updatePhoneCall(db: Database, callId: string, u: PhoneCallUpdate): Promise<void> {
  await db.update(phoneCalls).set({
    status: sql`case when ${phoneCalls.status} = 'ended' then 'ended' else ${u.status} end`,
    endedReason: sql`coalesce(${phoneCalls.endedReason}, ${u.endedReason ?? null})`,
    startedAt: sql`coalesce(${phoneCalls.startedAt}, ${u.startedAt?.toISOString() ?? null}::timestamptz)`,
    endedAt: sql`coalesce(${phoneCalls.endedAt}, ${u.endedAt?.toISOString() ?? null}::timestamptz)`,
  }).where(eq(phoneCalls.id, callId));
}

/**
 * Applies a status report only when the call's stored status is one of `from` — progress in a
 * provider's order (Twilio: `initiated` → `ringing` → `in-progress` → `ended`/`failed`), so a
 * callback delivered late never moves a call back. Start and end instants and the end reason keep
 * their first report. One conditional update.
 * @returns whether the call changed.
 */
export async function advancePhoneCall(db: Database, callId: string, u: PhoneCallUpdate, from: readonly string[]): Promise<boolean> {
  const rows = await db.update(phoneCalls).set({
    status: u.status,
    endedReason: sql`coalesce(${phoneCalls.endedReason}, ${u.endedReason ?? null})`,
    startedAt: sql`coalesce(${phoneCalls.startedAt}, ${u.startedAt?.toISOString() ?? null}::timestamptz)`,
    endedAt: sql`coalesce(${phoneCalls.endedAt}, ${u.endedAt?.toISOString() ?? null}::timestamptz)`,
  }).where(and(eq(phoneCalls.id, callId), inArray(phoneCalls.status, [...from]))).returning({ id: phoneCalls.id });
  return rows.length > 0;
}

/**
 * Adds the callee of a call whose audio Tolk carries itself (Twilio) as a participant of the
 * session (`phone:<callId>`, role `member`, speaker name the number): its stream is admitted,
 * recorded and revocable like any participant's. Adding it twice is a no-op.
 */
export async function addPhoneParticipant(db: Database, call: { callId: string; sessionId: string; phoneNumber: string }): Promise<string> {
  const userId = phoneParticipantId(call.callId, 'user');
  await db.insert(sessionParticipants).values({ sessionId: call.sessionId, userId, role: 'member', speakerName: call.phoneNumber }).onConflictDoNothing();
  return userId;
}

/** The participant id of a call's speaker in the session's utterances. */
export function phoneParticipantId(callId: string, speaker: PhoneSpeaker): string {
  return speaker === 'user' ? `phone:${callId}` : `phone:${callId}:assistant`;
}

/**
 * Stores a final transcript of a call as an utterance of its session (speaker: the callee's number,
 * or "Phone assistant"), in the session's language pair. Blank text is skipped.
 */
export async function addPhoneTranscript(db: Database, call: PhoneCallRecord, t: { speaker: PhoneSpeaker; text: string; at: Date; durationMs?: number | undefined }): Promise<void> {
  const text = t.text.trim();
  if (!text) return;
  const [session] = await db.select({ sourceLang: sessions.sourceLang, targetLang: sessions.targetLang }).from(sessions).where(eq(sessions.id, call.sessionId)).limit(1);
  if (!session) return;
  await db.insert(utterances).values({
    id: newId('utt'), sessionId: call.sessionId, organizationId: call.organizationId, participantId: phoneParticipantId(call.id, t.speaker),
    speakerName: t.speaker === 'user' ? call.phoneNumber : 'Phone assistant', sourceLang: session.sourceLang, targetLang: session.targetLang,
    text, startedAt: t.at, durationMs: Math.max(0, Math.round(t.durationMs ?? 0)),
  });
}

/** Transcripts stored for a call so far. */
export async function phoneTranscriptCount(db: Database, call: PhoneCallRecord): Promise<number> {
  const [row] = await db.select({ n: count() }).from(utterances)
    .where(and(eq(utterances.sessionId, call.sessionId), sql`${utterances.participantId} like ${`phone:${call.id}%`}`));
  return Number(row?.n ?? 0);
}

/** A call as session intelligence shows it. */
export interface PhoneCallSummary {
  callId: string;
  provider: string;
  phoneNumber: string;
  status: string;
  endedReason: string | null;
  /** ISO 8601, or null. */
  startedAt: string | null;
  endedAt: string | null;
  /** `endedAt − startedAt` in whole seconds; 0 when either is missing. */
  durationSeconds: number;
}

/** The calls of a session, oldest first. */
export async function phoneCallsOfSession(db: Database, sessionId: string): Promise<PhoneCallSummary[]> {
  const rows = await db.select().from(phoneCalls).where(eq(phoneCalls.sessionId, sessionId)).orderBy(asc(phoneCalls.createdAt));
  return rows.map((r) => ({
    callId: r.id, provider: r.provider, phoneNumber: r.phoneNumber, status: r.status, endedReason: r.endedReason,
    startedAt: r.startedAt?.toISOString() ?? null, endedAt: r.endedAt?.toISOString() ?? null,
    durationSeconds: r.startedAt && r.endedAt ? Math.max(0, Math.round((r.endedAt.getTime() - r.startedAt.getTime()) / 1000)) : 0,
  }));
}
