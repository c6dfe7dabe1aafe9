import { z } from 'zod';
import type { FinalTranscriptEvent, TranslationEvent, UtteranceEndEvent } from './session-stream.js';

/**
 * Leg 2 of spec 002 (Part 3, "WSS Server ↔ Worker"): the wire format between a gateway and a
 * worker. Documented for operators in docs/deploy.md.
 *
 * Gateway → worker: the merged config ({@link Leg2Config}) as the first text frame, then binary
 * PCM frames untouched, and Tolk's control frames ({@link dictionaryMessage}, {@link drainMessage}).
 * Worker → gateway: {@link ackMessage} once the pipeline runs, then spec 002 Part 1 events
 * (`transcript`, `translate`, `error`) and binary synthesized PCM, plus `utterance_end`
 * ({@link utteranceEndMessage}) that the gateway consumes and never forwards to the client.
 */

/** Path of the worker's leg-2 WebSocket endpoint. */
export const LEG2_PATH = '/internal/v1/leg2';
/** HTTP header carrying the shared secret (`TOLK_WORKER_SECRET`) on the leg-2 upgrade request. */
export const WORKER_SECRET_HEADER = 'x-tolk-worker-secret';

/**
 * `translator.mode` values a worker runs: `synchronous` translates and speaks each final into
 * `target_lang`; `none` only recognizes (transcripts and `utterance_end`): a conversation room's
 * gateway translates and speaks each final once per listener language itself.
 */
export const TRANSLATOR_MODES = ['synchronous', 'none'] as const;

const settings = z.record(z.string(), z.unknown()).nullable();
const words = z.array(z.string().min(1).max(200)).max(5000);

/**
 * The merged configuration of spec 002 Part 3 ("Initial Worker Message"), exactly its keys and
 * nesting. `translator.dictionary` maps source term → target term (the config's
 * `translation_dictionary` merged with the organization's glossary; the config wins on a term).
 */
export const leg2ConfigSchema = z.object({
  request_id: z.string().min(1).max(200),
  source_lang: z.string().min(1).max(35),
  target_lang: z.string().min(1).max(35),
  audio: z.object({ format: z.string(), sample_rate: z.number().int(), channels: z.number().int() }),
  tier: z.number().int(),
  translator: z.object({
    provider: z.string(),
    settings,
    mode: z.enum(TRANSLATOR_MODES),
    vocabulary: words,
    dictionary: z.record(z.string(), z.string()),
  }),
  stt: z.object({
    provider: z.string(),
    settings,
    interim: z.boolean(),
    final: z.boolean(),
    translate: z.boolean(),
    vocabulary: words,
  }),
  tts: z.object({
    provider: z.string(),
    settings,
    voice: z.object({ id: z.string(), speed: z.number().positive(), settings }),
  }),
  features: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
});

/** A validated leg-2 config (spec 002 Part 3). */
export type Leg2Config = z.infer<typeof leg2ConfigSchema>;

/**
 * The worker's acknowledgement (Tolk's definition of Part 2 step 4 "Once the Worker acknowledges"):
 * `{"ack":{"request_id":"…","worker_id":"…"}}`, sent once the pipeline has started. Before it, a
 * worker that refuses sends an `error` event and closes with 4000 + status (4429 when it is full).
 */
export function ackMessage(requestId: string, workerId: string): string {
  return JSON.stringify({ ack: { request_id: requestId, worker_id: workerId } });
}

/** Gateway → worker: the dictionary for the next utterances (the organization's glossary changed). */
export function dictionaryMessage(dictionary: Record<string, string>): string {
  return JSON.stringify({ dictionary });
}

/**
 * Gateway → worker: stop taking audio, finish the utterance in flight (its events still flow) for
 * at most `timeoutMs`, then close with 1000.
 */
export function drainMessage(timeoutMs: number): string {
  return JSON.stringify({ drain: { timeout_ms: timeoutMs } });
}

/**
 * Worker → gateway: an utterance's events are all out, with its latency marks (ms from the end of
 * speech) so the gateway can record them for platform sessions and `/metrics`. Not a Part 1 event:
 * the gateway never forwards it.
 */
export function utteranceEndMessage(e: UtteranceEndEvent): string {
  return JSON.stringify({
    utterance_end: {
      utterance_id: e.utteranceId, transcript: e.transcript, translation: e.translation,
      start: e.startedAt.toISOString(), duration: e.durationMs, confidence: e.confidence,
      latency: {
        endpoint_ms: e.latency.endpointMs, final_transcript_ms: e.latency.finalTranscriptMs,
        translation_ms: e.latency.translationMs, first_audio_ms: e.latency.firstAudioByteMs,
      },
    },
  });
}

/**
 * Worker → gateway, right after a `translate` event: its latency, end of speech → translation in ms
 * (Part 1's `translate` carries none). Consumed by the gateway (`/api/v1/ws/single` reports it as
 * `latency_ms`), never forwarded.
 */
export function translationLatencyMessage(utteranceId: string, latencyMs: number): string {
  return JSON.stringify({ translation_latency: { utterance_id: utteranceId, latency_ms: latencyMs } });
}

/** A gateway → worker text frame after the config, as the worker understands it. */
export type ControlMessage = { type: 'dictionary'; dictionary: Record<string, string> } | { type: 'drain'; timeoutMs: number } | { type: 'unknown' };

const controlSchema = z.union([
  z.object({ dictionary: z.record(z.string(), z.string()) }),
  z.object({ drain: z.object({ timeout_ms: z.number().int().min(0).max(600_000) }) }),
]);

/** Parses a control frame; malformed or unknown frames are `unknown` (the worker ignores them). */
export function parseControlMessage(text: string): ControlMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { type: 'unknown' };
  }
  const parsed = controlSchema.safeParse(json);
  if (!parsed.success) return { type: 'unknown' };
  return 'dictionary' in parsed.data ? { type: 'dictionary', dictionary: parsed.data.dictionary } : { type: 'drain', timeoutMs: parsed.data.drain.timeout_ms };
}

/** A worker → gateway text frame as the gateway reads it (it forwards the original text untouched). */
export type WorkerMessage =
  | { type: 'ack'; requestId: string; workerId: string }
  | { type: 'final'; event: FinalTranscriptEvent }
  | { type: 'translation'; event: TranslationEvent }
  | { type: 'utterance-end'; event: UtteranceEndEvent }
  /** An interim transcript (forwarded; conversation connections show it to the speaker). */
  | { type: 'interim'; utteranceId: string; text: string }
  /** See {@link translationLatencyMessage}: consumed, never forwarded. */
  | { type: 'translation-latency'; utteranceId: string; latencyMs: number }
  /** Any other Part 1 event (an error): forwarded, nothing to record. */
  | { type: 'other' };

const ackSchema = z.object({ ack: z.object({ request_id: z.string(), worker_id: z.string() }) });
const transcriptSchema = z.object({
  transcript: z.object({ text: z.string(), final: z.boolean(), start: z.string(), duration: z.number(), utterance_id: z.string() }),
});
const translationLatencySchema = z.object({ translation_latency: z.object({ utterance_id: z.string(), latency_ms: z.number() }) });
const translateSchema = z.object({ translate: z.object({ text: z.string(), final: z.boolean(), utterance_id: z.string() }) });
const utteranceEndSchema = z.object({
  utterance_end: z.object({
    utterance_id: z.string(), transcript: z.string(), translation: z.string(), start: z.string(), duration: z.number(),
    // Absent from workers older than the field: no confidence.
    confidence: z.number().min(0).max(1).nullable().default(null),
    latency: z.object({ endpoint_ms: z.number(), final_transcript_ms: z.number(), translation_ms: z.number(), first_audio_ms: z.number().nullable() }),
  }),
});

/**
 * Reads a worker's text frame: what the gateway records (finals, translations, utterance ends) or
 * acknowledges. Frames it does not understand are `other` (forwarded as they are).
 */
export function parseWorkerMessage(text: string): WorkerMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { type: 'other' };
  }
  const t = transcriptSchema.safeParse(json);
  if (t.success) {
    const x = t.data.transcript;
    if (!x.final) return { type: 'interim', utteranceId: x.utterance_id, text: x.text };
    return { type: 'final', event: { type: 'transcript', utteranceId: x.utterance_id, text: x.text, final: true, startedAt: new Date(x.start), durationMs: x.duration } };
  }
  const tr = translateSchema.safeParse(json);
  // Part 1 carries no latency on a translation; the recorders use the utterance end's marks.
  if (tr.success) return { type: 'translation', event: { type: 'translation', utteranceId: tr.data.translate.utterance_id, text: tr.data.translate.text, final: tr.data.translate.final, latencyMs: Number.NaN } };
  const u = utteranceEndSchema.safeParse(json);
  if (u.success) {
    const x = u.data.utterance_end;
    return {
      type: 'utterance-end',
      event: {
        type: 'utterance-end', utteranceId: x.utterance_id, transcript: x.transcript, translation: x.translation,
        startedAt: new Date(x.start), durationMs: x.duration, confidence: x.confidence,
        latency: { endpointMs: x.latency.endpoint_ms, finalTranscriptMs: x.latency.final_transcript_ms, translationMs: x.latency.translation_ms, firstAudioByteMs: x.latency.first_audio_ms },
      },
    };
  }
  const l = translationLatencySchema.safeParse(json);
  if (l.success) return { type: 'translation-latency', utteranceId: l.data.translation_latency.utterance_id, latencyMs: l.data.translation_latency.latency_ms };
  const a = ackSchema.safeParse(json);
  if (a.success) return { type: 'ack', requestId: a.data.ack.request_id, workerId: a.data.ack.worker_id };
  return { type: 'other' };
}

/** The `error` event's code and description in a worker's text frame, if it is one. */
export function errorOf(text: string): { status: number; description: string } | undefined {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; description?: unknown } }).error;
    if (e && typeof e.code === 'number') return { status: e.code, description: String(e.description ?? '') };
  } catch {
    // not JSON
  }
  return undefined;
}
