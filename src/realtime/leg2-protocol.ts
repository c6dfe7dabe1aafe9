import { z } from 'zod';

/**
 * Leg 2 of spec 002 (Part 3, "WSS Server ↔ Worker"): the wire format between a gateway and a
 * worker. Documented for operators in docs/deploy.md.
 *
 * Gateway → worker: the merged config ({@link Leg2Config}) as the first text frame, then binary
 * PCM frames untouched, and Tolk's control frames ({@link dictionaryMessage}, {@link drainMessage}).
 * Worker → gateway: {@link ackMessage} once the pipeline runs, then the worker's events as text
 * frames (spec 002 Part 1 events plus internal frames, see leg2-events.ts) and binary synthesized
 * PCM.
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

const ackSchema = z.object({ ack: z.object({ request_id: z.string(), worker_id: z.string() }) });

/** The worker's {@link ackMessage} in a text frame, if it is one. */
export function ackOf(text: string): { requestId: string; workerId: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const a = ackSchema.safeParse(json);
  return a.success ? { requestId: a.data.ack.request_id, workerId: a.data.ack.worker_id } : undefined;
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
