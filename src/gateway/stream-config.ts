import { z } from 'zod';
import { audioProblem } from '../audio/pcm.js';
import { isLanguageTag } from '../common/language-tags.js';
import { checkLanguages, type Engines } from '../providers/registry.js';

/**
 * The `config` message of spec 002 Part 1 ("Initial Client Message"), with its documented defaults.
 * Limits on list sizes keep one client from exhausting memory (docs/decisions.md).
 */
export const streamConfigSchema = z.object({
  config: z.object({
    audio: z
      .object({
        format: z.string().default('pcm_s16le'),
        sample_rate: z.number().int().default(16000),
        channels: z.number().int().default(1),
      })
      .default({ format: 'pcm_s16le', sample_rate: 16000, channels: 1 }),
    source_language: z.string({ error: 'source_language is required' }),
    target_language: z.string({ error: 'target_language is required' }),
    voice: z.string({ error: 'voice is required ("male" or "female")' }),
    vocabulary: z.array(z.string().min(1).max(100)).max(500).default([]),
    translation_dictionary: z
      .array(z.object({ source: z.string().min(1).max(200), target: z.string().max(200) }))
      .max(1000)
      .default([]),
    transcript: z
      .object({
        interim: z.boolean().default(false),
        final: z.boolean().default(true),
        translate: z.boolean().default(true),
      })
      .default({ interim: false, final: true, translate: true }),
    features: z.record(z.string(), z.unknown()).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    /** Part 2, step 1: the key may come in the config instead of the query string. */
    api_key: z.string().optional(),
  }),
});

/** A parsed, defaulted `config` message. */
export type StreamConfig = z.infer<typeof streamConfigSchema>['config'];

/**
 * Why a stream config cannot run on these engines (spec 002 Part 2 step 2, the request's part):
 * its audio, its language tags, its voice, and whether the engines offer the pair and a voice for
 * the target. Undefined when it can; otherwise the `error` event's description (status 400).
 */
export function streamConfigProblem(engines: Engines, config: StreamConfig): string | undefined {
  const audio = audioProblem(config.audio);
  if (audio) return audio;
  if (!isLanguageTag(config.source_language)) return `Invalid source_language "${config.source_language}": use a BCP 47 tag such as en-US`;
  if (!isLanguageTag(config.target_language)) return `Incorrect target_language "${config.target_language}": use a BCP 47 tag such as es-ES`;
  if (config.voice !== 'male' && config.voice !== 'female') return `Invalid voice "${config.voice}": use "male" or "female"`;
  const cancellation = config.features?.background_voice_cancellation;
  if (cancellation !== undefined && typeof cancellation !== 'boolean') return 'Invalid features.background_voice_cancellation: use true or false';
  const simultaneous = config.features?.simultaneous;
  if (simultaneous !== undefined && typeof simultaneous !== 'boolean') return 'Invalid features.simultaneous: use true or false';
  const check = checkLanguages(engines, config.source_language, config.target_language, config.voice);
  return check.ok ? undefined : check.description;
}
