import { audioProblem } from '../audio/pcm.js';
import { streamConfigSchema, type StreamConfig } from '../gateway/stream-config.js';
import type { StreamRequest } from '../core/stream-request.js';
import { firstIssueDescription, parseJsonMessage } from './ws-channel.js';

/** Longest `config.metadata.reference_id`, in characters (UTF-16 code units); it is echoed on every event. */
export const MAX_REFERENCE_ID_CHARS = 128;

/**
 * `config.metadata.reference_id` of a config message as echoed on events: a string as is, a number
 * as its decimal text; undefined when absent or of another type. Its length is not checked here
 * (see {@link MAX_REFERENCE_ID_CHARS}).
 */
export function referenceIdOf(message: unknown): string | undefined {
  const ref = (message as { config?: { metadata?: { reference_id?: unknown } } } | null)?.config?.metadata?.reference_id;
  return typeof ref === 'string' || typeof ref === 'number' ? String(ref) : undefined;
}

/** A `/vt` config message read (spec 002 Part 1), or why it is not one (a 400 `error` event). */
export type VtConfigMessage =
  | { ok: true; config: StreamConfig; referenceId: string | undefined; sampleRateHz: number }
  | { ok: false; description: string; referenceId: string | undefined };

/**
 * Reads the first message of a `/vt` connection: JSON, its `reference_id` (echoed from then on, at
 * most {@link MAX_REFERENCE_ID_CHARS} characters, so even the error about the rest carries it),
 * then its shape and defaults. `sampleRateHz` is the declared rate when supported, else 16 000 (an
 * unsupported rate is refused once the key is checked; until then it measures early audio).
 */
export function parseVtConfig(text: string): VtConfigMessage {
  const message = parseJsonMessage(text, 'config message');
  if (!message.ok) return { ok: false, description: message.description, referenceId: undefined };
  const ref = referenceIdOf(message.json);
  if (ref !== undefined && ref.length > MAX_REFERENCE_ID_CHARS) {
    return { ok: false, referenceId: undefined, description: `Malformed config message: config.metadata.reference_id: at most ${MAX_REFERENCE_ID_CHARS} characters (got ${ref.length})` };
  }
  const parsed = streamConfigSchema.safeParse(message.json);
  if (!parsed.success) return { ok: false, description: firstIssueDescription(parsed.error, 'config message'), referenceId: ref };
  const config = parsed.data.config;
  return { ok: true, config, referenceId: ref, sampleRateHz: audioProblem(config.audio) ? 16000 : config.audio.sample_rate };
}

/**
 * The {@link StreamRequest} a `/vt` config stands for (spec 002 Part 1 field names → the core's):
 * the credential is the key sent on connect, else the config's `api_key`.
 */
export function vtStreamRequest(config: StreamConfig, connectKey: string | undefined): StreamRequest {
  return {
    sourceLanguage: config.source_language, targetLanguage: config.target_language,
    audio: { format: config.audio.format, sampleRateHz: config.audio.sample_rate, channels: config.audio.channels },
    voice: config.voice, vocabulary: config.vocabulary, glossary: config.translation_dictionary,
    transcript: config.transcript, features: config.features, metadata: config.metadata,
    credential: { kind: 'key', key: connectKey ?? config.api_key },
  };
}
