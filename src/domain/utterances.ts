import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { utterances } from '../db/schema.js';

/** A final transcript of a session stream as the client saw it (the `utterances` table). */
export interface FinalUtterance {
  /** The `utterance_id` the client was sent. */
  id: string;
  sessionId: string;
  organizationId: string;
  participantId: string;
  speakerName: string;
  sourceLang: string;
  targetLang: string;
  text: string;
  /** Recognizer confidence in 0..1; null when the engine gives none (pocketsphinx does not). */
  confidence: number | null;
  /** Wall-clock start of the utterance. */
  startedAt: Date;
  /** Speech covered by the final transcript, in ms. */
  durationMs: number;
  /** Set when the translation is known at insert time (finals not sent, see docs/sessions.md). */
  translation?: string | null;
}

/** Latency marks of one utterance in ms from the end of its speech (pipeline `utterance-end`). */
export interface UtteranceLatencyMs {
  finalMs: number;
  translationMs: number;
  /** Null when no speech was synthesized. */
  firstAudioMs: number | null;
}

/** Inserts a final transcript; inserting the same utterance id twice keeps the first row. */
export async function recordFinalUtterance(db: Database, u: FinalUtterance): Promise<void> {
  await db.insert(utterances).values({
    id: u.id, sessionId: u.sessionId, organizationId: u.organizationId, participantId: u.participantId,
    speakerName: u.speakerName, sourceLang: u.sourceLang, targetLang: u.targetLang, text: u.text,
    translation: u.translation ?? null, confidence: u.confidence, startedAt: u.startedAt, durationMs: Math.round(u.durationMs),
  }).onConflictDoNothing();
}

/** Adds the translation sent for an utterance. No-op when the utterance was never recorded. */
export async function recordUtteranceTranslation(db: Database, utteranceId: string, translation: string): Promise<void> {
  await db.update(utterances).set({ translation }).where(eq(utterances.id, utteranceId));
}

/**
 * Adds what is known once an utterance ended: its latency marks (ms) and the recognizer's
 * confidence (0..1, null when the engine gave none). No-op when the utterance was never recorded.
 */
export async function recordUtteranceEnd(db: Database, utteranceId: string, latency: UtteranceLatencyMs, confidence: number | null): Promise<void> {
  await db.update(utterances).set({
    confidence,
    finalLatencyMs: Math.round(latency.finalMs),
    translationLatencyMs: Math.round(latency.translationMs),
    firstAudioLatencyMs: latency.firstAudioMs === null ? null : Math.round(latency.firstAudioMs),
  }).where(eq(utterances.id, utteranceId));
}
