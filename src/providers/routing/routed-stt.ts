import { concatSamples } from '../../audio/pcm.js';
import { resample, StreamingResampler } from '../../audio/resampler.js';
import { AsyncQueue } from '../../common/async-queue.js';
import { primaryLanguage } from '../../common/language-tags.js';
import type { SttCapabilities, SttProvider, SttStats, SttStream, SttStreamOptions, SttTranscript } from '../stt/types.js';
import { allFailedError, routedName, routeOrder, runsEngine, type RoutedEngine, type RoutedProviderInfo } from './route-order.js';

type SttEngine = RoutedEngine<SttProvider>;

/** An STT engine that can load recognizers ahead of the first stream (pocketsphinx). */
interface Prewarmable {
  prewarm(count?: number): Promise<void>;
}

/**
 * Speech recognition over several engines (docs/engines.md "Routing and fallback"): a stream is
 * routed by the primary subtag of its language in `routes.stt`, else `default`, else configuration
 * order, among the engines that recognize the language. The first engine that opens serves the
 * stream (its interims are passed on); when it fails to finish an utterance, the next engine in
 * the order recognizes that same utterance from the audio kept for it. Audio is taken at one rate
 * (the first engine's) and resampled for engines that take another.
 */
export class RoutedStt implements SttProvider, RoutedProviderInfo {
  readonly name: string;
  readonly capabilities: SttCapabilities;
  readonly engineIds: readonly string[];

  /**
   * @param engines - the running STT engines, in configuration order (at least one).
   * @param routes - `routes.stt` of the configuration.
   */
  constructor(
    private readonly engines: readonly SttEngine[],
    private readonly routes: Readonly<Record<string, readonly string[]>>,
  ) {
    this.name = routedName(engines);
    this.engineIds = engines.map((e) => e.id);
    const languages = new Set<string>();
    for (const e of engines) for (const l of e.provider.capabilities.languages) if (this.order(l).length > 0) languages.add(l);
    const first = routeOrder(engines, routes, 'default', () => true)[0] ?? engines[0];
    this.capabilities = {
      languages: [...languages],
      interimResults: engines.some((e) => e.provider.capabilities.interimResults),
      vocabulary: engines.some((e) => e.provider.capabilities.vocabulary),
      sampleRateHz: first?.provider.capabilities.sampleRateHz ?? 16000,
    };
  }

  runs(provider: string): boolean {
    return runsEngine(this.engines, provider);
  }

  /** The engines tried for `language`, in order. */
  order(language: string, preferred?: readonly string[]): SttEngine[] {
    const primary = primaryLanguage(language);
    return routeOrder(this.engines, this.routes, primary, (e) => e.provider.capabilities.languages.includes(primary), preferred);
  }

  /** @throws {Error} naming every engine's failure when none recognizes the language or could open. */
  async open(options: SttStreamOptions): Promise<SttStream> {
    const order = this.order(options.language, options.engines);
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const e of order) {
      try {
        const stream = await e.provider.open(options);
        return new RoutedSttStream({ engine: e, stream }, order.filter((x) => x !== e), options, this.capabilities.sampleRateHz);
      } catch (error) {
        failures.push({ id: e.id, error });
      }
    }
    throw allFailedError(`recognize ${options.language}`, failures);
  }

  /** Loads recognizers ahead of the first stream on every engine that can (pocketsphinx). */
  async prewarm(count = 1): Promise<void> {
    await Promise.all(this.engines.map((e) => (e.provider as Partial<Prewarmable>).prewarm?.call(e.provider, count)));
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((e) => e.provider.close()));
  }

  /** The engines' totals added up (engines that cannot tell count nothing). */
  stats(): SttStats {
    const total: SttStats = { audioMs: 0, decodeMs: 0, loads: 0, loading: 0 };
    for (const e of this.engines) {
      const s = e.provider.stats?.();
      total.audioMs += s?.audioMs ?? 0;
      total.decodeMs += s?.decodeMs ?? 0;
      total.loads = (total.loads ?? 0) + (s?.loads ?? 0);
      total.loading = (total.loading ?? 0) + (s?.loading ?? 0);
    }
    return total;
  }
}

/** Reads an engine stream's events and drops them (a fallback's finals come from its `flush`). */
function drain(stream: SttStream, onEvent: (t: SttTranscript) => void = () => undefined): void {
  void (async () => {
    for await (const t of stream) onEvent(t);
  })().catch(() => undefined);
}

/**
 * One routed recognition stream: the serving engine's stream, plus fallback engines' streams
 * opened when first needed. Finals come out in utterance order, from whichever engine recognized
 * the utterance; interims only from the serving engine, each after the finals of the utterances
 * before its own: an interim of an utterance whose predecessor's final is still being finished is
 * held (the latest one) and passed on right after that final, so a consumer that attributes
 * interims to the oldest utterance awaiting its final never misattributes one, and an utterance
 * that ended while the one before it was finishing still has its interim before its final.
 */
class RoutedSttStream implements SttStream {
  private readonly events = new AsyncQueue<SttTranscript>();
  private readonly fallbackStreams = new Map<SttEngine, Promise<SttStream>>();
  private utterance: Int16Array[] = [];
  private ingest: StreamingResampler | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Serving-engine flushes settled: an interim the serving engine sends now is of utterance number `servedSettled`. */
  private servedSettled = 0;
  /** Finals passed on: the utterance whose interims pass at once. */
  private finalsOut = 0;
  /** The latest interim of a later utterance than `finalsOut`, waiting for the finals before it. */
  private held: { utterance: number; transcript: SttTranscript } | undefined;
  /** The serving engine's current hypothesis, when it has one ({@link SttStream.hypothesis}). */
  readonly hypothesis?: () => Promise<string>;

  constructor(
    private readonly serving: { engine: SttEngine; stream: SttStream },
    private readonly fallbacks: readonly SttEngine[],
    private readonly options: SttStreamOptions,
    private readonly rateHz: number,
  ) {
    this.ingest = this.resamplerFor(serving.engine);
    const served = serving.stream;
    if (served.hypothesis) this.hypothesis = () => (this.closed ? Promise.reject(new Error('stream closed')) : served.hypothesis?.() ?? Promise.resolve(''));
    drain(serving.stream, (t) => {
      if (t.type === 'interim') this.interim(t);
    });
  }

  get pendingMs(): number {
    return this.serving.stream.pendingMs;
  }

  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.utterance.push(samples);
    const out = this.ingest ? this.ingest.process(samples) : samples;
    if (out.length > 0) this.serving.stream.push(out);
  }

  flush(): Promise<SttTranscript> {
    if (this.closed) return Promise.reject(new Error('stream closed'));
    const audio = concatSamples(this.utterance);
    this.utterance = [];
    if (this.ingest) {
      const tail = this.ingest.flush();
      if (tail.length > 0) this.serving.stream.push(tail);
      this.ingest = this.resamplerFor(this.serving.engine);
    }
    // Asked now, so the serving engine ends this utterance before audio of the next one arrives.
    const served = this.serving.stream.flush();
    const settled = (): void => {
      this.servedSettled++;
    };
    served.then(settled, settled);
    const result = this.chain.then(() => this.finish(served, audio));
    this.chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    const fallbacks = await Promise.all([...this.fallbackStreams.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([this.serving.stream, ...fallbacks].map((s) => s?.close().catch(() => undefined)));
    this.events.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttTranscript> {
    return this.events[Symbol.asyncIterator]();
  }

  /** The utterance's final from the serving engine, else from the first fallback that recognizes its audio. */
  private async finish(served: Promise<SttTranscript>, audio: Int16Array): Promise<SttTranscript> {
    let final: SttTranscript | undefined;
    const failures: Array<{ id: string; error: unknown }> = [];
    try {
      final = await served;
    } catch (error) {
      failures.push({ id: this.serving.engine.id, error });
    }
    for (const e of this.fallbacks) {
      if (final) break;
      try {
        const stream = await this.fallbackStream(e);
        stream.push(resample(audio, this.rateHz, e.provider.capabilities.sampleRateHz));
        final = await stream.flush();
      } catch (error) {
        failures.push({ id: e.id, error });
      }
    }
    if (final) this.events.push(final);
    this.nextUtterance();
    if (!final) throw allFailedError('recognize the utterance', failures);
    return final;
  }

  /** An utterance's final is out (or failed): the next utterance's held interim, if any, follows it. */
  private nextUtterance(): void {
    this.finalsOut++;
    const held = this.held;
    if (held && held.utterance <= this.finalsOut) {
      this.held = undefined;
      if (held.utterance === this.finalsOut && !this.closed) this.events.push(held.transcript);
    }
  }

  /** Passes on an interim of the serving engine in utterance order (held while finals before it are pending). */
  private interim(t: SttTranscript): void {
    if (this.closed) return;
    const utterance = this.servedSettled;
    if (utterance === this.finalsOut) this.events.push(t);
    else if (utterance > this.finalsOut) this.held = { utterance, transcript: t };
  }

  /** A fallback engine's stream, opened on first use (a failed open is tried again next time). */
  private fallbackStream(e: SttEngine): Promise<SttStream> {
    let p = this.fallbackStreams.get(e);
    if (!p) {
      p = e.provider.open(this.options).then((s) => {
        drain(s);
        return s;
      });
      p.catch(() => this.fallbackStreams.delete(e));
      this.fallbackStreams.set(e, p);
    }
    return p;
  }

  private resamplerFor(e: SttEngine): StreamingResampler | undefined {
    const rate = e.provider.capabilities.sampleRateHz;
    return rate === this.rateHz ? undefined : new StreamingResampler(this.rateHz, rate);
  }
}
