import { primaryLanguage } from '../../common/language-tags.js';
import type { TtsCapabilities, TtsProvider, TtsRequest, VoiceName } from '../tts/types.js';
import { NO_SIMULATED_TIME, type SimulatedTime } from './simulated-time.js';

/** Settings of a {@link FakeTts}. */
export interface FakeTtsOptions {
  /** Engine name (leg-2 `tts.provider`); default `fake-tts`. */
  name?: string;
  /** Default: languages `en`, `es`, `fr`, `de`; both voices; 22050 Hz (espeak-ng's rate, so egress resamples). */
  capabilities?: Partial<TtsCapabilities>;
  /** Duration of the tone per character of text, in ms; default 50. */
  msPerChar?: number;
  /** Length of each yielded block, in ms; default 100. */
  blockMs?: number;
  /** Tone of each voice, in Hz; default male 220, female 440. */
  frequencyHz?: Partial<Record<VoiceName, number>>;
  /** Peak amplitude of the tone (s16); default 8000. */
  amplitude?: number;
  /** The error synthesis fails with (before any audio), or undefined to succeed. */
  error?: (text: string, request: TtsRequest) => Error | undefined;
  /** Simulated engine time before the first block, in ms; default 0. */
  firstBlockCostMs?: number;
  /** Clock that `firstBlockCostMs` advances. */
  time?: SimulatedTime;
}

/** Default tone of each voice, in Hz. */
export const FAKE_TTS_FREQUENCY_HZ: Readonly<Record<VoiceName, number>> = { male: 220, female: 440 };

/**
 * A {@link TtsProvider} that "speaks" a sine tone (docs/architecture.md "Engines", `providers/testing/`): mono s16
 * blocks at `capabilities.sampleRateHz`, like espeak-ng, lasting `msPerChar` per character, at the
 * voice's frequency, so a test can check duration, rate and voice of what reaches the client.
 */
export class FakeTts implements TtsProvider {
  readonly name: string;
  readonly capabilities: TtsCapabilities;
  /** Every `synthesize` request, in order. */
  readonly calls: Array<{ text: string; request: TtsRequest }> = [];

  constructor(private readonly options: FakeTtsOptions = {}) {
    this.name = options.name ?? 'fake-tts';
    this.capabilities = { languages: ['en', 'es', 'fr', 'de'], voices: ['male', 'female'], sampleRateHz: 22050, ...options.capabilities };
  }

  /** Duration of the speech for `text`, in ms. */
  durationMs(text: string): number {
    return text.length * (this.options.msPerChar ?? 50);
  }

  /** Tone of `voice`, in Hz. */
  frequencyOf(voice: VoiceName): number {
    return this.options.frequencyHz?.[voice] ?? FAKE_TTS_FREQUENCY_HZ[voice];
  }

  /** @throws {Error} when the language has no voice, or the configured `error`. */
  async *synthesize(text: string, request: TtsRequest): AsyncIterable<Int16Array> {
    this.calls.push({ text, request: { ...request } });
    const tag = request.language.toLowerCase();
    const languages = this.capabilities.languages;
    if (!languages.includes(tag) && !languages.includes(primaryLanguage(tag))) {
      throw new Error(`${this.name} has no voice for ${request.language}`);
    }
    const error = this.options.error?.(text, request);
    if (error) throw error;
    (this.options.time ?? NO_SIMULATED_TIME).advance(this.options.firstBlockCostMs ?? 0);
    const rate = this.capabilities.sampleRateHz;
    const total = Math.round((this.durationMs(text) * rate) / 1000);
    const block = Math.max(1, Math.round(((this.options.blockMs ?? 100) * rate) / 1000));
    const step = (2 * Math.PI * this.frequencyOf(request.voice)) / rate;
    const amplitude = this.options.amplitude ?? 8000;
    for (let start = 0; start < total; start += block) {
      const n = Math.min(block, total - start);
      yield Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin(step * (start + i))));
    }
  }
}
