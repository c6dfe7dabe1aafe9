/**
 * Soniox real-time speech recognition as an engine module (docs/architecture.md "Engines"; spec 002 Part 3 example
 * `stt.provider: "soniox"`). One WebSocket session per stream (`soniox-stream.ts`), Soniox's own
 * endpoint detection (`endpointing: 'provider'`) and, with the `soniox` translator
 * (`../mt/soniox.ts`), Soniox's own translation of each utterance. Protocol: `soniox-protocol.ts`.
 */
import { z } from 'zod';
import { primaryLanguage } from '../../common/language-tags.js';
import { defineEngine, type EngineContext } from '../engine-module.js';
import {
  fetchSonioxModel, SONIOX_API_URL, SONIOX_REALTIME_URL, sonioxTranslationPairs,
  type SonioxConfigMessage, type SonioxModel,
} from './soniox-protocol.js';
import { SonioxStream } from './soniox-stream.js';
import type { SttCapabilities, SttProvider, SttStream, SttStreamOptions } from './types.js';

/** Settings shared by the `soniox` STT and MT modules: the account and the model. */
export const sonioxAccountSettings = z.object({
  /** A Soniox API key; sent as `Authorization: Bearer` with each connection, never in a message body. */
  apiKey: z.string().min(1, 'soniox: apiKey (a Soniox API key) is required'),
  /** REST root for `GET /v1/models` (capability discovery). */
  apiUrl: z.string().regex(/^https?:\/\//, 'soniox: apiUrl must be an http(s) URL').default(SONIOX_API_URL),
  /** A real-time model id or alias (see `GET /v1/models`). */
  model: z.string().min(1).default('stt-rt-v5'),
});

/** Settings of the `soniox` STT engine (the routing configuration's `settings` object). */
export const sonioxSttSettings = sonioxAccountSettings.extend({
  url: z.string().regex(/^wss?:\/\//, 'soniox: url must be a ws(s) URL').default(SONIOX_REALTIME_URL),
  /** Rate at which streams take audio, in Hz. */
  sampleRateHz: z.number().int().min(8000).max(48000).default(16000),
  /** Soniox ends utterances itself (`<end>`); false leaves endpointing to Tolk's VAD alone. */
  endpointDetection: z.boolean().default(true),
  /** Longest delay between the end of speech and `<end>`, 500..3000 ms (Soniox's default: 2000). */
  maxEndpointDelayMs: z.number().int().min(500).max(3000).optional(),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  finalizeTimeoutMs: z.number().int().positive().default(5_000),
  /** Idle time after which a keepalive goes out, in ms (Soniox needs one at least every 20 s). */
  keepaliveIntervalMs: z.number().int().min(1000).max(15_000).default(5_000),
});

/** Parsed settings of the `soniox` STT engine. */
export type SonioxSttSettings = z.output<typeof sonioxSttSettings>;

/** The Soniox STT engine: capabilities from the model's entry in `GET /v1/models`. */
export class SonioxStt implements SttProvider {
  readonly name = 'soniox';
  readonly capabilities: SttCapabilities;
  private readonly streams = new Set<SttStream>();

  constructor(
    private readonly settings: SonioxSttSettings,
    model: SonioxModel,
    private readonly context: EngineContext = { id: 'soniox' },
  ) {
    this.capabilities = {
      languages: model.languages.map((l) => l.code),
      interimResults: true,
      vocabulary: true,
      sampleRateHz: settings.sampleRateHz,
      endpointing: settings.endpointDetection ? 'provider' : 'vad',
      translation: sonioxTranslationPairs(model).length > 0,
    };
  }

  /**
   * Opens one Soniox session for the stream.
   * @throws {Error} when the language is not one of the model's, or Soniox cannot be reached in time.
   */
  async open(options: SttStreamOptions): Promise<SttStream> {
    const language = primaryLanguage(options.language);
    if (!this.capabilities.languages.includes(language)) {
      throw new Error(`soniox model ${this.settings.model} does not recognize ${options.language}`);
    }
    const startedAt = Date.now();
    const record = (outcome: 'ok' | 'error'): void =>
      this.context.onRequest?.({ engine: this.context.id, kind: 'stt', outcome, durationMs: Date.now() - startedAt });
    let stream: SonioxStream;
    try {
      stream = await SonioxStream.open(this.settings, sonioxConfigMessage(this.settings, options));
    } catch (err) {
      record('error');
      throw err;
    }
    record('ok');
    this.streams.add(stream);
    const close = stream.close.bind(stream);
    stream.close = async () => {
      this.streams.delete(stream);
      await close();
    };
    return stream;
  }

  /** Closes every open stream. */
  async close(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.close()));
  }
}

/**
 * The first message of a session for `options` (Soniox WebSocket API "Configuration"): raw s16le
 * mono, the stream's language as the language hint, vocabulary as `context.terms`, and one-way
 * translation into `translateTo` (its dictionary as `context.translation_terms`) when asked for.
 */
export function sonioxConfigMessage(settings: SonioxSttSettings, options: SttStreamOptions): SonioxConfigMessage {
  const source = primaryLanguage(options.language);
  const config: SonioxConfigMessage = {
    model: settings.model,
    audio_format: 'pcm_s16le',
    sample_rate: settings.sampleRateHz,
    num_channels: 1,
    language_hints: [source],
    enable_endpoint_detection: settings.endpointDetection,
  };
  if (settings.maxEndpointDelayMs !== undefined) config.max_endpoint_delay_ms = settings.maxEndpointDelayMs;
  const target = options.translateTo ? primaryLanguage(options.translateTo) : undefined;
  const context: NonNullable<SonioxConfigMessage['context']> = {};
  if (options.vocabulary?.length) context.terms = [...options.vocabulary];
  if (target && target !== source) {
    config.translation = { type: 'one_way', target_language: target };
    if (options.translationTerms?.length) context.translation_terms = options.translationTerms.map((t) => ({ source: t.source, target: t.target }));
  }
  if (Object.keys(context).length > 0) config.context = context;
  return config;
}

/** The `soniox` STT engine module. */
export const sonioxSttEngine = defineEngine({
  kind: 'stt',
  name: 'soniox',
  description: 'Soniox real-time recognition (cloud, WebSocket): interim and final transcripts, its own endpointing, its own translation with the soniox translator',
  settings: sonioxSttSettings,
  async create(settings, context) {
    const model = await fetchSonioxModel(settings.apiUrl, settings.apiKey, settings.model, context.signal);
    return new SonioxStt(settings, model, context);
  },
});

export default sonioxSttEngine;
