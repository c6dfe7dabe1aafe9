import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listSessionParticipants, listSessionUtterances } from '../../domain/session-transcript.js';
import { sessionDurationSeconds } from '../../domain/sessions.js';
import { principalOf } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorResponses, idParams } from './schemas.js';
import { visibleSession } from './sessions.js';

const sessionDetail = z.object({
  id: z.string(),
  status: z.enum(['created', 'active', 'completed']),
  source_lang: z.string(),
  target_lang: z.string(),
  created_at: z.string(),
  started_at: z.string().describe('When the first stream started; the creation time while none has (status created)'),
  ended_at: z.string().nullable().describe('When the session completed; null until then'),
  duration_seconds: z.number().int().describe('ended_at (or now) − started_at; 0 before the first stream'),
  participants: z.array(z.object({
    user_id: z.string(),
    role: z.enum(['owner', 'admin', 'member']),
    speaker_name: z.string(),
    joined_at: z.string().nullable().describe('When the participant first streamed; null if never'),
    revoked_at: z.string().nullable().describe('When the participant was revoked; null if not'),
  })).describe('Everyone who may join or joined, revoked participants included'),
});

const transcriptUtterance = z.object({
  id: z.string().describe('The utterance_id the stream sent'),
  participant_id: z.string(),
  speaker_name: z.string(),
  source_lang: z.string(),
  target_lang: z.string(),
  text: z.string().describe('Final transcript in the source language'),
  translation: z.string().nullable().describe('The translation sent; null when none was'),
  started_at: z.string(),
  duration_ms: z.number().int().describe('Speech covered by the transcript, in ms'),
  confidence: z.number().nullable().describe('Recognizer confidence in 0..1; null when the engine gives none'),
  final_latency_ms: z.number().int().nullable().describe('End of speech → final transcript, in ms'),
  translation_latency_ms: z.number().int().nullable().describe('End of speech → translation, in ms'),
  first_audio_latency_ms: z.number().int().nullable().describe('End of speech → first synthesized audio, in ms; null without speech'),
});

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

/**
 * Read routes of one platform session for the console (docs/sessions.md "One session",
 * "Transcript"), mounted under `/api`, any role: `GET /sessions/:id` (status, languages, duration,
 * participants) and `GET /sessions/:id/transcript` (final transcripts in spoken order with their
 * translation and latency). A session of an organization the key does not belong to is 404
 * `NOT_FOUND`, like an unknown one.
 */
export const sessionDetailRoutes: PlatformRoutePlugin = async (app, ctx) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/sessions/:id', {
    schema: { tags: ['sessions'], summary: 'One session with its participants', params: idParams, response: { 200: sessionDetail, ...errorResponses } },
  }, async (request) => {
    const { session: s } = await visibleSession(ctx, principalOf(request), request.params.id);
    const participants = await listSessionParticipants(ctx.db, s.id);
    return {
      id: s.id, status: s.status, source_lang: s.sourceLang, target_lang: s.targetLang, created_at: s.createdAt.toISOString(),
      started_at: (s.startedAt ?? s.createdAt).toISOString(), ended_at: iso(s.endedAt), duration_seconds: sessionDurationSeconds(s),
      participants: participants.map((p) => ({ user_id: p.userId, role: p.role, speaker_name: p.speakerName, joined_at: iso(p.joinedAt), revoked_at: iso(p.revokedAt) })),
    };
  });

  r.get('/sessions/:id/transcript', {
    schema: {
      tags: ['sessions'], summary: "A session's final transcripts with translation and latency, in spoken order", params: idParams,
      response: { 200: z.object({ session_id: z.string(), utterances: z.array(transcriptUtterance) }), ...errorResponses },
    },
  }, async (request) => {
    const { session } = await visibleSession(ctx, principalOf(request), request.params.id);
    const rows = await listSessionUtterances(ctx.db, session.id);
    return {
      session_id: session.id,
      utterances: rows.map((u) => ({
        id: u.id, participant_id: u.participantId, speaker_name: u.speakerName, source_lang: u.sourceLang, target_lang: u.targetLang,
        text: u.text, translation: u.translation, started_at: u.startedAt.toISOString(), duration_ms: u.durationMs, confidence: u.confidence,
        final_latency_ms: u.finalLatencyMs, translation_latency_ms: u.translationLatencyMs, first_audio_latency_ms: u.firstAudioLatencyMs,
      })),
    };
  });
};
