import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { sessionParticipants, utterances } from '../db/schema.js';
import type { ParticipantRecord } from './sessions.js';

/** One stored final transcript of a session with its translation and latency marks (a row of `utterances`). */
export type TranscriptUtterance = typeof utterances.$inferSelect;

/**
 * A session's final transcripts in spoken order (start time, then id), blank ones (finals that
 * only closed interim transcripts) left out. Read by `GET /api/sessions/:id/transcript`
 * (docs/sessions.md "Transcript"). The caller has checked that the session is visible to the key.
 * @throws {Error} when the database fails.
 */
export async function listSessionUtterances(db: Database, sessionId: string): Promise<TranscriptUtterance[]> {
  const rows = await db.select().from(utterances).where(eq(utterances.sessionId, sessionId)).orderBy(asc(utterances.startedAt), asc(utterances.id));
  return rows.filter((u) => u.text.trim() !== '');
}

/**
 * Every participant of a session, revoked ones included (with `revokedAt`), by user id.
 * @throws {Error} when the database fails.
 */
export async function listSessionParticipants(db: Database, sessionId: string): Promise<ParticipantRecord[]> {
  return db.select().from(sessionParticipants).where(eq(sessionParticipants.sessionId, sessionId)).orderBy(asc(sessionParticipants.userId));
}
