/**
 * The `openai` TTS engine (docs/architecture.md "Engines" "OpenAI-compatible /v1/audio/speech"): any server with
 * OpenAI's `POST /v1/audio/speech` — OpenAI, Kokoro-FastAPI, speaches (Kokoro, Piper), LocalAI.
 * One request per sentence with `response_format: "pcm"` (raw s16le mono, 24 kHz for OpenAI and
 * Kokoro); the samples are yielded block by block as the body arrives, so the first audio goes out
 * before the server has finished. Tolk's voices (`male`, `female`) map to the server's voice ids
 * per language through the `voices` setting.
 */
import { z } from 'zod';
import { S16leDecoder } from '../../audio/pcm.js';
import { primaryLanguage } from '../../common/language-tags.js';
import { defineEngine, type EngineContext } from '../engine-module.js';
import type { HttpEngineClient } from '../http/http-engine-client.js';
import { httpClientFor, httpEngineSettingsShape } from '../http/http-settings.js';
import type { TtsCapabilities, TtsProvider, TtsRequest, VoiceName } from './types.js';

const voiceIds = z.strictObject({
  /** Server voice id for Tolk's `male` voice (e.g. `am_michael` on Kokoro, `onyx` on OpenAI). */
  male: z.string().min(1),
  /** Server voice id for Tolk's `female` voice (e.g. `af_heart` on Kokoro, `nova` on OpenAI). */
  female: z.string().min(1),
});

/** Settings of the `openai` TTS engine (docs/engines.md "Engines: openai (TTS)"). */
export const openaiTtsSettings = z.strictObject({
  ...httpEngineSettingsShape,
  /** The speech model: `tts-1`, `gpt-4o-mini-tts` (OpenAI), `kokoro` (Kokoro-FastAPI), … */
  model: z.string().min(1).default('tts-1'),
  /**
   * Voice ids per language: keys are BCP 47 tags or primary subtags (`en`, `en-gb`, `es`); a
   * stream's locale uses its exact tag's entry, else its primary subtag's. The languages the
   * engine speaks are these keys.
   */
  voices: z
    .record(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'voices keys are language tags such as "en" or "en-GB"'), voiceIds)
    .refine((v) => Object.keys(v).length > 0, 'voices needs at least one language'),
  /** Rate, in Hz, of the server's `pcm` answers (24000 for OpenAI and Kokoro). */
  sampleRateHz: z.number().int().min(8000).max(48_000).default(24_000),
  /** `speed` of each request, 0.25–4 (1 = normal); omitted when unset. */
  speed: z.number().min(0.25).max(4).optional(),
});

/** Parsed {@link openaiTtsSettings}. */
export type OpenAiTtsSettings = z.output<typeof openaiTtsSettings>;

/** An OpenAI-compatible speech server as a {@link TtsProvider}; see the module doc. */
export class OpenAiTts implements TtsProvider {
  readonly name = 'openai';
  readonly capabilities: TtsCapabilities;
  private readonly voices: ReadonlyMap<string, Record<VoiceName, string>>;

  constructor(
    private readonly client: HttpEngineClient,
    private readonly settings: OpenAiTtsSettings,
  ) {
    this.voices = new Map(Object.entries(settings.voices).map(([tag, ids]) => [tag.toLowerCase(), ids]));
    const languages = new Set<string>();
    for (const tag of this.voices.keys()) {
      languages.add(tag);
      languages.add(primaryLanguage(tag));
    }
    this.capabilities = { languages: [...languages], voices: ['male', 'female'], sampleRateHz: settings.sampleRateHz };
  }

  /**
   * The server voice id for a request: the locale's own entry, else its primary subtag's.
   * @throws {Error} when no entry covers the language.
   */
  voiceId(request: TtsRequest): string {
    const tag = request.language.toLowerCase();
    const ids = this.voices.get(tag) ?? this.voices.get(primaryLanguage(tag)) ?? this.voicesOfPrimary(primaryLanguage(tag));
    if (!ids) throw new Error(`openai TTS has no voice for ${request.language}; configured languages: ${[...this.voices.keys()].join(', ')}`);
    return ids[request.voice];
  }

  /**
   * Speaks `text`, yielding s16 blocks at `capabilities.sampleRateHz` as the body arrives. Ending
   * the iteration early aborts the request.
   * @throws {Error} when the language has no voice.
   * @throws {EngineHttpError} when the server fails (after retries), stalls, or answers with something other than audio.
   */
  async *synthesize(text: string, request: TtsRequest): AsyncGenerator<Int16Array> {
    const voice = this.voiceId(request);
    if (!text.trim()) return;
    const http = {
      method: 'POST',
      path: '/audio/speech',
      json: { model: this.settings.model, input: text, voice, response_format: 'pcm', ...(this.settings.speed !== undefined ? { speed: this.settings.speed } : {}) },
    } as const;
    const { chunks, contentType, cancel } = await this.client.requestStream(http);
    try {
      if (/^(application\/json|text\/)/i.test(contentType)) throw this.client.malformed(http, `expected raw pcm audio, got ${contentType}`);
      const decoder = new S16leDecoder();
      for await (const chunk of chunks) {
        const block = decoder.decode(chunk);
        if (block.length > 0) yield block;
      }
    } finally {
      await cancel();
    }
  }

  /** An entry for another locale of the same language (`en-us` serves `en-AU`). */
  private voicesOfPrimary(primary: string): Record<VoiceName, string> | undefined {
    for (const [tag, ids] of this.voices) if (primaryLanguage(tag) === primary) return ids;
    return undefined;
  }
}

/**
 * The `openai` TTS engine module. Its languages and voices come from the `voices` setting (the
 * speech API has no voice list every server implements); nothing is sent until the first sentence.
 */
export const openaiTtsEngine = defineEngine({
  kind: 'tts',
  name: 'openai',
  description: 'OpenAI-compatible /v1/audio/speech (OpenAI, Kokoro-FastAPI, speaches, LocalAI), raw pcm streamed as it arrives',
  settings: openaiTtsSettings,
  async create(settings, context: EngineContext) {
    return new OpenAiTts(httpClientFor('tts', settings, context), settings);
  },
});
