import { AsyncQueue } from '../../common/async-queue.js';
import { primaryLanguage } from '../../common/language-tags.js';
import type { SttCapabilities, SttProvider, SttStats, SttStream, SttStreamOptions, SttTranscript } from '../stt/types.js';
import { NO_SIMULATED_TIME, type SimulatedTime } from './simulated-time.js';

/** What the fake recognizer "hears" in one utterance (between two `flush` calls). */
export interface ScriptedUtterance {
  /** The final transcript's text. */
  text: string;
  /**
   * Interim texts, revealed one per `interimEveryMs` of audio pushed; default: the final's word
   * prefixes (`hello`, `hello there`, …). An empty list gives no interims.
   */
  interims?: readonly string[];
  /** Confidence of the final (0..1); default: the provider's `confidence`. */
  confidence?: number;
}

/** The script of one stream, utterance by utterance; past its end, utterances are heard as noise (`''`). */
export type SttScript = readonly (ScriptedUtterance | string)[];

/** Settings of a {@link FakeStt}. */
export interface FakeSttOptions {
  /** Engine name (leg-2 `stt.provider`); default `fake-stt`. */
  name?: string;
  /** Default: languages `en`, `es`, `fr`, `de`; interim results; no vocabulary; 16000 Hz. */
  capabilities?: Partial<SttCapabilities>;
  /** The same script for every stream, or one chosen per stream (0-based index in opening order). */
  script?: SttScript | ((options: SttStreamOptions, streamIndex: number) => SttScript);
  /** Audio, in ms, that reveals each next interim text; default 200. */
  interimEveryMs?: number;
  /** Confidence of finals without their own (0..1); default undefined (the engine gives none). */
  confidence?: number;
  /** When set, `open` rejects with it. */
  openError?: Error;
  /** The error `flush` rejects with for an utterance (0-based, per stream), or undefined to succeed. */
  flushError?: (utteranceIndex: number) => Error | undefined;
  /** Simulated engine time of each `flush` before its final is out, in ms; default 0. */
  flushCostMs?: number;
  /** Clock that `flushCostMs` advances. */
  time?: SimulatedTime;
}

/**
 * An {@link SttProvider} whose streams "recognize" a script (docs/architecture.md "Engines", `providers/testing/`).
 * Deterministic: interims follow the amount of audio pushed, finals follow `flush`, never
 * wall-clock time. Events come out asynchronously and in order, as a real engine's do.
 */
export class FakeStt implements SttProvider {
  readonly name: string;
  readonly capabilities: SttCapabilities;
  /** Every stream opened, in order. */
  readonly streams: FakeSttStream[] = [];
  private readonly totals: SttStats = { audioMs: 0, decodeMs: 0 };

  constructor(private readonly options: FakeSttOptions = {}) {
    this.name = options.name ?? 'fake-stt';
    this.capabilities = {
      languages: ['en', 'es', 'fr', 'de'],
      interimResults: true,
      vocabulary: false,
      sampleRateHz: 16000,
      ...options.capabilities,
    };
  }

  /** @throws {Error} `openError` when set, or when the language is not in `capabilities.languages`. */
  async open(options: SttStreamOptions): Promise<SttStream> {
    if (this.options.openError) throw this.options.openError;
    if (!this.capabilities.languages.includes(primaryLanguage(options.language))) {
      throw new Error(`${this.name} does not recognize ${options.language}`);
    }
    const s = this.options.script;
    const script = typeof s === 'function' ? s(options, this.streams.length) : (s ?? []);
    const stream = new FakeSttStream(options, script, this.options, this.capabilities, this.totals);
    this.streams.push(stream);
    return stream;
  }

  /** Nothing to free: streams hold no engine resources. */
  async close(): Promise<void> {}

  /** Audio pushed to every stream so far, in ms; decoding takes no time. */
  stats(): SttStats {
    return { ...this.totals };
  }
}

/** One stream of a {@link FakeStt}; its fields let a test see what the pipeline did with it. */
export class FakeSttStream implements SttStream {
  /** The finals produced so far, in order. */
  readonly finals: SttTranscript[] = [];
  /** True after `close`. */
  closed = false;
  private readonly events = new AsyncQueue<SttTranscript>();
  /** Event order: a final is out before the next utterance's interims, as with a real decoder. */
  private chain: Promise<void> = Promise.resolve();
  private utteranceIndex = 0;
  private utteranceSamples = 0;
  private revealed = 0;

  constructor(
    /** The options the stream was opened with. */
    readonly options: SttStreamOptions,
    private readonly script: SttScript,
    private readonly settings: FakeSttOptions,
    private readonly capabilities: SttCapabilities,
    private readonly totals: SttStats,
  ) {}

  /** Always 0: the fake decodes as soon as audio is pushed. */
  get pendingMs(): number {
    return 0;
  }

  /** Adds audio to the utterance; yields the interims its amount reveals (only when the engine gives interims). */
  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.utteranceSamples += samples.length;
    this.totals.audioMs += this.toMs(samples.length);
    if (!this.capabilities.interimResults) return;
    const interims = this.interimsOf(this.utterance());
    const due = Math.min(interims.length, Math.floor(this.audioMs() / (this.settings.interimEveryMs ?? 200)));
    for (; this.revealed < due; this.revealed++) {
      const text = interims[this.revealed] ?? '';
      this.emit({ type: 'interim', text, audioMs: this.audioMs() });
    }
  }

  /**
   * Ends the utterance: its scripted final (`''` when no audio was pushed or the script is over).
   * @throws {Error} the `flushError` for this utterance, or when the stream is closed.
   */
  flush(): Promise<SttTranscript> {
    if (this.closed) return Promise.reject(new Error('stream closed'));
    const heard = this.utteranceSamples > 0;
    const scripted = heard ? this.utterance() : undefined;
    const index = this.utteranceIndex;
    const final: SttTranscript = {
      type: 'final',
      text: scripted?.text ?? '',
      audioMs: this.audioMs(),
      confidence: scripted ? (scripted.confidence ?? this.settings.confidence) : undefined,
    };
    if (heard) this.utteranceIndex++;
    this.utteranceSamples = 0;
    this.revealed = 0;
    const result = this.chain.then(() => {
      (this.settings.time ?? NO_SIMULATED_TIME).advance(this.settings.flushCostMs ?? 0);
      const error = heard ? this.settings.flushError?.(index) : undefined;
      if (error) throw error;
      this.finals.push(final);
      this.events.push(final);
      return final;
    });
    this.chain = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Ends the iterator once the events already queued (a pending final included) are out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    this.events.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttTranscript> {
    return this.events[Symbol.asyncIterator]();
  }

  private emit(t: SttTranscript): void {
    this.chain = this.chain.then(() => this.events.push(t));
  }

  private utterance(): ScriptedUtterance | undefined {
    const u = this.script[this.utteranceIndex];
    return typeof u === 'string' ? { text: u } : u;
  }

  private interimsOf(u: ScriptedUtterance | undefined): readonly string[] {
    if (!u) return [];
    if (u.interims) return u.interims;
    const words = u.text.split(/\s+/).filter(Boolean);
    return words.map((_, i) => words.slice(0, i + 1).join(' '));
  }

  private audioMs(): number {
    return this.toMs(this.utteranceSamples);
  }

  private toMs(samples: number): number {
    return (samples * 1000) / this.capabilities.sampleRateHz;
  }
}
