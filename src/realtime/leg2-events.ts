import { z } from 'zod';
import { renderEvent } from './stream-events.js';
import type { TranslationEvent, UtteranceEndEvent } from './session-stream.js';
import type { WorkerEvent } from './worker-link.js';

/*
 * The leg-2 codec of a worker's events (spec 002 Part 3, "Worker Events"): what a worker's
 * {@link WorkerEvent}s look like as text frames on leg 2, and how the gateway reads them back into
 * the same typed events. In one process (role `all`) events pass as objects and none of this runs.
 *
 * - `transcript`, `translate`, `error`: spec 002 Part 1 JSON, exactly as a `/vt` client gets it
 *   (with the config's `metadata.reference_id`).
 * - A translation is its Part 1 `translate` frame followed at once by Tolk's internal
 *   `translation_latency` frame (its latency and the final's text, which Part 1 does not carry).
 * - `utterance_end`: internal, the utterance's latency marks.
 */

/**
 * Worker → gateway, right after a `translate` event: end of speech → translation in ms, and the
 * text of the final it translates. Internal: the gateway never forwards it.
 */
export function translationLatencyMessage(e: TranslationEvent): string {
  return JSON.stringify({ translation_latency: { utterance_id: e.utteranceId, latency_ms: e.latencyMs, transcript: e.transcript } });
}

/**
 * Worker → gateway: an utterance's events are all out, with its latency marks (ms from the end of
 * speech) so the gateway can record them for platform sessions and `/metrics`. Internal: the
 * gateway never forwards it.
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
 * A worker's event as leg-2 text frames, in order.
 * @param referenceId - the config's `metadata.reference_id`, echoed in Part 1 events.
 */
export function encodeWorkerEvent(event: WorkerEvent, referenceId: string | undefined): string[] {
  if (event.type === 'utterance-end') return [utteranceEndMessage(event)];
  const part1 = renderEvent(event, referenceId);
  const frames = part1 === undefined ? [] : [part1];
  if (event.type === 'translation') frames.push(translationLatencyMessage(event));
  return frames;
}

const transcriptSchema = z.object({
  transcript: z.object({ text: z.string(), final: z.boolean(), start: z.string(), duration: z.number(), utterance_id: z.string() }),
});
const translateSchema = z.object({ translate: z.object({ text: z.string(), final: z.boolean(), utterance_id: z.string() }) });
const translationLatencySchema = z.object({
  // `transcript` is absent from workers older than the field: the decoder remembers the final.
  translation_latency: z.object({ utterance_id: z.string(), latency_ms: z.number(), transcript: z.string().optional() }),
});
const errorSchema = z.object({ error: z.object({ code: z.number(), description: z.unknown().optional() }) });
const utteranceEndSchema = z.object({
  utterance_end: z.object({
    utterance_id: z.string(), transcript: z.string(), translation: z.string(), start: z.string(), duration: z.number(),
    // Absent from workers older than the field: no confidence.
    confidence: z.number().min(0).max(1).nullable().default(null),
    latency: z.object({ endpoint_ms: z.number(), final_transcript_ms: z.number(), translation_ms: z.number(), first_audio_ms: z.number().nullable() }),
  }),
});

/**
 * The gateway's reader of one leg-2 stream's text frames: gives back the {@link WorkerEvent}s the
 * worker encoded with {@link encodeWorkerEvent}. A `translate` frame waits for the
 * `translation_latency` frame that follows it (or, failing that, for its `utterance_end`, whose
 * marks include the translation's latency), so a translation is never reported without its latency.
 * Frames it does not understand (the `ack`, anything unknown) give nothing.
 */
export class Leg2EventDecoder {
  /** A `translate` frame waiting for its latency. */
  private pending: { utteranceId: string; text: string; final: boolean } | undefined;
  /** Finals' texts by utterance id, for a `translation_latency` frame without `transcript`. */
  private readonly finals = new Map<string, string>();

  /** The events of one text frame (none, one, or a held translation and the frame's own). */
  decode(text: string): WorkerEvent[] {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return [];
    }
    const t = transcriptSchema.safeParse(json);
    if (t.success) {
      const x = t.data.transcript;
      if (x.final) this.finals.set(x.utterance_id, x.text);
      return [{ type: 'transcript', utteranceId: x.utterance_id, text: x.text, final: x.final, startedAt: new Date(x.start), durationMs: x.duration }];
    }
    const tr = translateSchema.safeParse(json);
    if (tr.success) {
      this.pending = { utteranceId: tr.data.translate.utterance_id, text: tr.data.translate.text, final: tr.data.translate.final };
      return [];
    }
    const l = translationLatencySchema.safeParse(json);
    if (l.success) {
      const x = l.data.translation_latency;
      return this.translation(x.utterance_id, x.latency_ms, x.transcript);
    }
    const u = utteranceEndSchema.safeParse(json);
    if (u.success) return this.utteranceEnd(u.data.utterance_end);
    const e = errorSchema.safeParse(json);
    if (e.success) return [{ type: 'error', status: e.data.error.code, description: String(e.data.error.description ?? ''), cause: undefined }];
    return [];
  }

  /** The held translation of `utteranceId` with its latency, if one is held. */
  private translation(utteranceId: string, latencyMs: number, transcript: string | undefined): WorkerEvent[] {
    const p = this.pending;
    if (!p || p.utteranceId !== utteranceId) return [];
    this.pending = undefined;
    const final = transcript ?? this.finals.get(utteranceId) ?? '';
    this.finals.delete(utteranceId);
    return [{ type: 'translation', utteranceId, text: p.text, final: p.final, latencyMs, transcript: final }];
  }

  private utteranceEnd(x: z.infer<typeof utteranceEndSchema>['utterance_end']): WorkerEvent[] {
    const events = this.translation(x.utterance_id, x.latency.translation_ms, x.transcript);
    this.finals.delete(x.utterance_id);
    events.push({
      type: 'utterance-end', utteranceId: x.utterance_id, transcript: x.transcript, translation: x.translation,
      startedAt: new Date(x.start), durationMs: x.duration, confidence: x.confidence,
      latency: { endpointMs: x.latency.endpoint_ms, finalTranscriptMs: x.latency.final_transcript_ms, translationMs: x.latency.translation_ms, firstAudioByteMs: x.latency.first_audio_ms },
    });
    return events;
  }
}
