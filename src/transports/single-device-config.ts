import { z } from 'zod';

/** Rates the single-device stream accepts, in Hz (the web app sends 16 kHz). */
export const SINGLE_SAMPLE_RATES_HZ = [8000, 16000, 24000, 48000] as const;

const sampleRate = z.union(SINGLE_SAMPLE_RATES_HZ.map((r) => z.literal(r)) as [z.ZodLiteral<8000>, z.ZodLiteral<16000>, z.ZodLiteral<24000>, z.ZodLiteral<48000>], {
  error: `sample_rate must be one of ${SINGLE_SAMPLE_RATES_HZ.join(', ')}`,
});

/** The fields a config may carry, in any of the accepted forms (all optional here; checked after). */
const fieldsSchema = z.object({
  language: z.string().max(35).optional(),
  translate_language: z.string().max(35).optional(),
  source_language: z.string().max(35).optional(),
  target_language: z.string().max(35).optional(),
  voice: z.enum(['male', 'female'], { error: 'voice must be "male" or "female"' }).optional(),
  sample_rate: sampleRate.optional(),
  audio: z.object({ sample_rate: sampleRate.optional() }).optional(),
  speech: z.boolean({ error: 'speech must be true or false' }).optional(),
  simultaneous: z.boolean({ error: 'simultaneous must be true or false' }).optional(),
});

/** A `/api/v1/ws/single` config, read from any accepted form, with its defaults applied. */
export interface SingleDeviceConfig {
  /** BCP-47 tag of the speaker's language. */
  sourceLanguage: string;
  /** BCP-47 tag of the translation's language. */
  targetLanguage: string;
  voice: 'male' | 'female';
  /** Rate of the PCM s16le mono audio in both directions, in Hz. */
  sampleRateHz: (typeof SINGLE_SAMPLE_RATES_HZ)[number];
  /** Whether the client wants the translated speech as binary frames (default false: JSON only). */
  speech: boolean;
  /** Simultaneous mode (docs/stream-protocol.md "Simultaneous mode"); present (true) only when asked. */
  simultaneous?: true;
}

/**
 * Reads the config message of `/api/v1/ws/single` (spec 003 Flow 1, which documents no fields;
 * docs/conversations.md). Accepted forms, all equivalent:
 * - canonical: `{"type":"config","language":"en-US","translate_language":"es","voice":"female","sample_rate":16000,"speech":true}`;
 * - the same without `"type"`;
 * - nested like spec 002's: `{"config":{"source_language":"en-US","target_language":"es","audio":{"sample_rate":16000}}}`
 *   (with or without `"type":"config"` beside it).
 * `source_language`/`target_language` stand for `language`/`translate_language`; `audio.sample_rate`
 * for `sample_rate`. Defaults: voice `female`, 16000 Hz, no speech, not simultaneous.
 * @returns the config, or the message of the client error (`{"error":…}` on this surface).
 */
export function parseSingleDeviceConfig(json: unknown): { ok: true; config: SingleDeviceConfig } | { ok: false; error: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, error: 'The config must be a JSON object.' };
  const outer = json as Record<string, unknown>;
  if (outer.type !== undefined && outer.type !== 'config') return { ok: false, error: `Unknown message type "${String(outer.type)}": send {"type":"config",…}.` };
  const nested = outer.config;
  const body = typeof nested === 'object' && nested !== null && !Array.isArray(nested) ? { ...outer, ...nested } : outer;
  const parsed = fieldsSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `Invalid config: ${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}.` };
  }
  const c = parsed.data;
  const sourceLanguage = c.language ?? c.source_language;
  const targetLanguage = c.translate_language ?? c.target_language;
  if (!sourceLanguage || !targetLanguage) return { ok: false, error: 'The config needs "language" and "translate_language".' };
  return {
    ok: true,
    config: {
      sourceLanguage, targetLanguage, voice: c.voice ?? 'female',
      sampleRateHz: c.sample_rate ?? c.audio?.sample_rate ?? 16000, speech: c.speech ?? false,
      ...(c.simultaneous ? { simultaneous: true as const } : {}),
    },
  };
}
