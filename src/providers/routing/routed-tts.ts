import { StreamingResampler } from '../../audio/resampler.js';
import { primaryLanguage } from '../../common/language-tags.js';
import type { TtsCapabilities, TtsProvider, TtsRequest, VoiceName } from '../tts/types.js';
import { allFailedError, routedName, routeOrder, runsEngine, type RoutedEngine, type RoutedProviderInfo } from './route-order.js';

/** Whether a TTS engine has a voice for the locale (its exact tag or its primary subtag) and the voice. */
function speaks(tts: TtsProvider, language: string, voice?: VoiceName): boolean {
  const tag = language.toLowerCase();
  const langs = tts.capabilities.languages;
  const hasLanguage = langs.includes(tag) || langs.includes(primaryLanguage(tag));
  return hasLanguage && (voice === undefined || tts.capabilities.voices.includes(voice));
}

/**
 * Speech synthesis over several engines (docs/engines.md "Routing and fallback"): each request is
 * routed by the primary subtag of its language in `routes.tts`, else `default`, else configuration
 * order, among the engines with a voice for it. An engine that fails before any audio came out is
 * replaced by the next for the same utterance; once audio is out, its failure is the caller's.
 * Audio comes out at one rate (the first engine's), resampled when an engine speaks at another.
 */
export class RoutedTts implements TtsProvider, RoutedProviderInfo {
  readonly name: string;
  readonly capabilities: TtsCapabilities;
  readonly engineIds: readonly string[];

  /**
   * @param engines - the running TTS engines, in configuration order (at least one).
   * @param routes - `routes.tts` of the configuration.
   */
  constructor(
    private readonly engines: readonly RoutedEngine<TtsProvider>[],
    private readonly routes: Readonly<Record<string, readonly string[]>>,
  ) {
    this.name = routedName(engines);
    this.engineIds = engines.map((e) => e.id);
    const languages = new Set<string>();
    const voices = new Set<VoiceName>();
    for (const e of engines) {
      for (const tag of e.provider.capabilities.languages) if (this.order(tag).length > 0) languages.add(tag);
      for (const v of e.provider.capabilities.voices) voices.add(v);
    }
    const first = routeOrder(engines, routes, 'default', () => true)[0] ?? engines[0];
    this.capabilities = { languages: [...languages], voices: [...voices], sampleRateHz: first?.provider.capabilities.sampleRateHz ?? 16000 };
  }

  runs(provider: string): boolean {
    return runsEngine(this.engines, provider);
  }

  /** The engines tried for `language` (and `voice`), in order. */
  order(language: string, voice?: VoiceName, preferred?: readonly string[]): RoutedEngine<TtsProvider>[] {
    return routeOrder(this.engines, this.routes, primaryLanguage(language), (e) => speaks(e.provider, language, voice), preferred);
  }

  /** @throws {Error} naming every engine's failure when none could start speaking, or an engine's failure after audio came out. */
  async *synthesize(text: string, request: TtsRequest): AsyncIterable<Int16Array> {
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const e of this.order(request.language, request.voice, request.engines)) {
      const resampled = new ResampledOutput(e.provider.capabilities.sampleRateHz, this.capabilities.sampleRateHz);
      try {
        for await (const block of e.provider.synthesize(text, request)) {
          const out = resampled.process(block);
          if (out.length > 0) yield out;
        }
        const tail = resampled.flush();
        if (tail.length > 0) yield tail;
        return;
      } catch (error) {
        if (resampled.emitted > 0) throw error;
        failures.push({ id: e.id, error });
      }
    }
    throw allFailedError(`speak ${request.language}`, failures);
  }
}

/**
 * One engine's speech at the routed rate: passed through at the same rate, else resampled with
 * the tail cut so the length is exactly `round(input × out / in)`.
 */
class ResampledOutput {
  /** Samples given out so far. */
  emitted = 0;
  private taken = 0;
  private readonly resampler: StreamingResampler | undefined;

  constructor(private readonly inRateHz: number, private readonly outRateHz: number) {
    this.resampler = inRateHz === outRateHz ? undefined : new StreamingResampler(inRateHz, outRateHz);
  }

  process(block: Int16Array): Int16Array {
    this.taken += block.length;
    const out = this.resampler ? this.resampler.process(block) : block;
    this.emitted += out.length;
    return out;
  }

  flush(): Int16Array {
    if (!this.resampler) return new Int16Array(0);
    const wanted = Math.round((this.taken * this.outRateHz) / this.inRateHz) - this.emitted;
    const tail = this.resampler.flush().subarray(0, Math.max(0, wanted));
    this.emitted += tail.length;
    return tail;
  }
}
