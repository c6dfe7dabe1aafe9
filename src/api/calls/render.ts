import type { FastifyRequest } from 'fastify';
import type { CallsConfig } from '../../config.js';
import { sessionDurationS, type StoredCallSession } from '../../domain/calls/sessions.js';
import { wordCount, type CallRecordingRow, type TranscriptSegmentRow } from '../../domain/calls/transcript.js';
import { isoSeconds } from '../../domain/calls/webhooks.js';
import { publicOrigin, webSocketOrigin } from '../public-url.js';

/**
 * The stream socket's URL of a session (spec 004 `stream.url`, `…/v1/sessions/{id}/connect`):
 * on `TOLK_PUBLIC_URL` when set (https → wss), else on the request's host and protocol (the
 * proxy's forwarded ones when `TOLK_TRUST_PROXY` is set: src/api/public-url.ts).
 */
export function streamUrl(config: CallsConfig, request: FastifyRequest, sessionId: string): string {
  return `${webSocketOrigin(publicOrigin({ calls: config }, request))}/v1/sessions/${sessionId}/connect`;
}

/** `provider` of spec 004: `{type, phone_number, status}` plus `call_sid` once known (as the vendor's GET shows). */
function renderProvider(session: StoredCallSession): Record<string, unknown> | null {
  const p = session.provider;
  if (!p) return null;
  return { type: p.type, phone_number: p.phoneNumber, status: p.status, ...(p.callSid ? { call_sid: p.callSid } : {}) };
}

/**
 * The session object as `POST /v1/sessions` answers it (spec 004 "Response", every field of the
 * example in its order). `stream` is left out once the session has ended (vendor docs: "Only
 * present if session is not ended").
 */
export function renderCreatedSession(session: StoredCallSession, url: string): Record<string, unknown> {
  return {
    id: session.id, object: 'session', status: session.status, mode: session.mode,
    source_language: session.sourceLanguage, target_language: session.targetLanguage,
    ...(session.status !== 'ended' ? { stream: { url, token: session.streamToken, expires_at: isoSeconds(session.streamExpiresAt) } } : {}),
    provider: renderProvider(session),
    recording: { enabled: session.recording.enabled, channels: session.recording.channels },
    ...(session.aiAgent ? { ai_agent: session.aiAgent } : {}),
    ...(session.transcription ? { transcription: session.transcription } : {}),
    webhook_url: session.webhookUrl,
    metadata: session.metadata,
    created_at: isoSeconds(session.createdAt),
  };
}

/**
 * The session object of `GET /v1/sessions/{id}` and `POST …/end` (vendor "Retrieve a session"):
 * the created fields plus `duration` (s), `transcript` summary, `started_at`, `ended_at` and,
 * once ended, `end_reason`.
 */
export function renderSession(session: StoredCallSession, url: string, segments: readonly TranscriptSegmentRow[]): Record<string, unknown> {
  const { created_at: createdAt, ...rest } = renderCreatedSession(session, url);
  return {
    ...rest,
    duration: sessionDurationS(session),
    transcript: { available: segments.length > 0, word_count: wordCount(segments) },
    created_at: createdAt,
    started_at: session.startedAt ? isoSeconds(session.startedAt) : null,
    ended_at: session.endedAt ? isoSeconds(session.endedAt) : null,
    ...(session.endReason ? { end_reason: session.endReason } : {}),
  };
}

/** `GET /v1/sessions/{id}/transcript` (vendor "Get session transcript", JSON format). */
export function renderTranscript(session: StoredCallSession, segments: readonly TranscriptSegmentRow[], includeTranslations: boolean): Record<string, unknown> {
  return {
    object: 'transcript', session_id: session.id, status: session.status === 'ended' ? 'complete' : 'in_progress',
    language: { source: session.sourceLanguage, target: session.targetLanguage },
    segments: segments.map((s) => ({
      id: s.id, speaker: s.speaker, language: s.language, text: s.text,
      ...(includeTranslations && s.translation !== null ? { translation: s.translation, translation_language: s.translationLanguage } : {}),
      start_time: s.startMs / 1000, end_time: s.endMs / 1000, confidence: s.confidence,
    })),
    duration: sessionDurationS(session),
    word_count: wordCount(segments),
  };
}

/** A recording object (vendor "Retrieve a recording"); `download_url` is relative and needs the API key. */
export function renderRecording(r: CallRecordingRow): Record<string, unknown> {
  return {
    id: r.id, object: 'recording', session_id: r.sessionId, channel: r.channel, status: r.status,
    duration: r.durationMs / 1000, format: r.format, size: r.sizeBytes, sample_rate: r.sampleRateHz, bit_depth: 16, channels: r.channels,
    download_url: r.status === 'ready' ? `/v1/recordings/${r.id}/audio` : null,
    created_at: isoSeconds(r.createdAt),
  };
}
