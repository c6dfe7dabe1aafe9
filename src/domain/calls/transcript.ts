import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { callRecordings, callTranscriptSegments } from '../../db/schema.js';
import { newId } from '../api-keys.js';
import type { CallLeg } from './model.js';

/** A final transcript segment of a call (spec 004 transcript). */
export type TranscriptSegmentRow = typeof callTranscriptSegments.$inferSelect;
/** A recording of a call. */
export type CallRecordingRow = typeof callRecordings.$inferSelect;

/**
 * Stores a final transcript segment with the next sequence number of its session.
 * @param segment.id - the segment id the stream socket sent (`seg_…`), so the transcript and the
 *   socket agree.
 */
export async function addTranscriptSegment(
  db: Database,
  segment: { id: string; sessionId: string; speaker: CallLeg; language: string; text: string; startMs: number; endMs: number; confidence: number | null },
): Promise<void> {
  await db.insert(callTranscriptSegments).values({
    ...segment,
    sequence: sql`(select coalesce(max(${callTranscriptSegments.sequence}), 0) + 1 from ${callTranscriptSegments} where ${callTranscriptSegments.sessionId} = ${segment.sessionId})`,
  }).onConflictDoNothing();
}

/** Adds the translation of segment `id`. */
export async function setSegmentTranslation(db: Database, id: string, language: string, translation: string): Promise<void> {
  await db.update(callTranscriptSegments).set({ translationLanguage: language, translation }).where(eq(callTranscriptSegments.id, id));
}

/** The session's segments in order. */
export async function listTranscriptSegments(db: Database, sessionId: string): Promise<TranscriptSegmentRow[]> {
  return db.select().from(callTranscriptSegments).where(eq(callTranscriptSegments.sessionId, sessionId)).orderBy(asc(callTranscriptSegments.sequence));
}

/** Words in the session's segments. */
export function wordCount(segments: readonly Pick<TranscriptSegmentRow, 'text'>[]): number {
  return segments.reduce((n, s) => n + s.text.split(/\s+/).filter(Boolean).length, 0);
}

/** Stores a recording's row. */
export async function addRecording(db: Database, row: Omit<typeof callRecordings.$inferInsert, 'id'>): Promise<CallRecordingRow> {
  const rows = await db.insert(callRecordings).values({ id: newId('rec'), ...row }).returning();
  return rows[0] as CallRecordingRow;
}

/** The session's recordings, oldest first. */
export async function listRecordings(db: Database, sessionId: string): Promise<CallRecordingRow[]> {
  return db.select().from(callRecordings).where(eq(callRecordings.sessionId, sessionId)).orderBy(asc(callRecordings.createdAt));
}

/** Recording `id` of `organizationId`; undefined when unknown or another organization's. */
export async function findRecording(db: Database, organizationId: string, id: string): Promise<CallRecordingRow | undefined> {
  const rows = await db.select().from(callRecordings).where(and(eq(callRecordings.id, id), eq(callRecordings.organizationId, organizationId))).limit(1);
  return rows[0];
}
