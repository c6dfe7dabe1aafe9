import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { resample } from '../../audio/resampler.js';
import { readWav } from '../../audio/wav.js';
import { callSlowInBackground, loadLib } from './pocketsphinx-lib.js';
import { DecoderPool, vocabularyKey } from './pocketsphinx-pool.js';
import { limitMallocArenas, scheduleHeapTrim } from './native-heap.js';
import type { EngineContext } from '../engine-module.js';
import { DecodeScheduler } from './decode-scheduler.js';
import { addVocabulary, PocketsphinxStream, SAMPLE_RATE_HZ } from './pocketsphinx-stream.js';
import { residentMb } from './resident-memory.js';
import { recognizerThreads } from './native-threads.js';
import { decoderDictionary, dictionaryPhones } from './pocketsphinx-dictionary.js';
import type { SttCapabilities, SttProvider, SttStats, SttStream, SttStreamOptions } from './types.js';

/** Where Debian's `pocketsphinx-en-us` installs the US English model. */
export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/**
 * Decoder settings. Single-pass (no fwdflat/bestpath rescoring) with pruning limits. Measured by
 * `bench/stt-decoder.ts` on the five LibriVox recordings: the defaults score WER 28.2% at 0.47 CPU
 * seconds per audio second, these 21.1% at 0.21. Tighter beams (`-beam`/`-pbeam 1e-40`, `-maxhmmpf
 * 2000`) cost 0.16 but scored 45% on live, endpointed streams, so they are not used. Closing an
 * utterance takes a few ms instead of ~300 ms with rescoring.
 *
 * `-ds 2` (the acoustic model, 58% of the decoder's instructions, scored on every other frame) was
 * measured and is not used: `bench/stt-instructions.ts` 9.94 G → 8.47 G instructions, but in Tolk's
 * stream path WER 29.6% → 35.2% for 0.185 → 0.160 CPU s per audio s (13% more streams, a sixth more
 * words wrong). `-topn 2`/`3`, `-maxhmmpf 1500`, `-beam 1e-40` scored 42–52%, worse than the CLI
 * (docs/deploy.md "Capacity").
 *
 * The phone-exit and word-exit beams (`-pbeam 1e-40`, `-wbeam 1e-20`) with at most 2000 active HMMs
 * per frame (was 3000) prune only what the search never kept: `bench/stt-instructions.ts` 9.94 G →
 * 8.20 G instructions (×0.82) at the same WER (39.4% vs the CLI's 36.6% on whole files), each
 * alone ×0.91 / ×0.97 / ×0.92; the main beam (`-beam`) is left at its default.
 */
export const POCKETSPHINX_DECODER_ARGS: readonly string[] = [
  '-fwdflat', 'no',
  '-bestpath', 'no',
  '-maxhmmpf', '2000',
  '-maxwpf', '5',
  '-pl_window', '5',
  '-pbeam', '1e-40',
  '-wbeam', '1e-20',
];

const PRIMER_TEXT =
  'Hello, this is a sample of speech that primes the cepstral mean of the recognizer before the first person speaks to it.';

/** How long idle decoders beyond the warm reserve are kept after the last stream took one, in ms. */
const IDLE_RELEASE_MS = 30_000;

/** Resident memory a loaded decoder is assumed to add until one was measured, in MB (docs/deploy.md "Memory"). */
const DEFAULT_MB_PER_DECODER = 90;

/** Whether the pocketsphinx library and the en-us model are installed. */
export function pocketsphinxAvailable(modelDir = POCKETSPHINX_MODEL_DIR): boolean {
  if (!fs.existsSync(`${modelDir}/en-us`) || !fs.existsSync(`${modelDir}/en-us.lm.bin`)) return false;
  try {
    loadLib();
    return true;
  } catch {
    return false;
  }
}

/**
 * Streaming STT on pocketsphinx, in process through koffi (docs/architecture.md "Engines"). Every slow decoder call runs
 * on the recognizer's own threads (`native-threads.ts`; `TOLK_STT_THREADS=libuv` for libuv's pool),
 * so decoding never blocks the event loop nor the pool file reads and DNS lookups use; calls on one
 * decoder are serialized, and all go through one {@link DecodeScheduler} (as many at once as cores,
 * streams in turn, finals first). A stream that is behind skips interims: under load interims thin
 * out, finals stay. Decoders (~65–90 MB and ~1 s of CPU to load and prime each) are created just
 * ahead of demand: `spare` are kept ready, another is loaded when a stream takes one, and idle ones
 * beyond the reserve are freed {@link IDLE_RELEASE_MS} after the last stream took one.
 */
export class PocketsphinxStt implements SttProvider {
  readonly name = 'pocketsphinx';
  readonly capabilities: SttCapabilities = {
    languages: ['en'],
    interimResults: true,
    vocabulary: true,
    sampleRateHz: SAMPLE_RATE_HZ,
    inProcess: true,
  };
  private readonly pool: DecoderPool;
  private readonly maxIdle: number;
  private readonly spare: number;
  private readonly modelDir: string;
  private readonly decoderArgs: readonly string[];
  /** Background creation of spare decoders, one at a time so it never starves live streams. */
  private refilling: Promise<void> | undefined;
  private closed = false;
  private readonly totals: SttStats = { audioMs: 0, decodeMs: 0, loads: 0, loading: 0, loaded: 0, mbPerRecognizer: DEFAULT_MB_PER_DECODER };
  private readonly scheduler: DecodeScheduler;
  /** Where each utterance's final is reported (`/metrics`); none outside an engine configuration. */
  private readonly context: EngineContext | undefined;
  private lastTakenAtMs = performance.now();
  private readonly shrinkTimer: NodeJS.Timeout;

  /** Audio decoded and time spent in `ps_process_raw` since start, in ms (streams only, not priming). */
  stats(): SttStats {
    return { ...this.totals, idle: this.pool.plainCount };
  }

  /**
   * @param options.modelDir - folder holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`.
   * @param options.maxIdleDecoders - decoders kept loaded between streams at most (default 4).
   * @param options.spareDecoders - the warm reserve: decoders kept ready ahead of the next stream;
   *   when a stream takes one and fewer remain, another is loaded in the background (default 1), so
   *   opening a stream rarely waits the ~1 s CPU a decoder costs to load and prime.
   * @param options.decoderArgs - pocketsphinx arguments beyond the model paths (default
   *   {@link POCKETSPHINX_DECODER_ARGS}).
   * @param options.decodeThreads - decoder calls running at once (default: the cores Node sees).
   * @param options.idleReleaseMs - idle decoders beyond the reserve are freed this long after the
   *   last stream took one, in ms (default {@link IDLE_RELEASE_MS}).
   */
  constructor(options: {
    modelDir?: string; maxIdleDecoders?: number; spareDecoders?: number; decoderArgs?: readonly string[];
    decodeThreads?: number; idleReleaseMs?: number; context?: EngineContext;
  } = {}) {
    this.context = options.context;
    this.scheduler = new DecodeScheduler(options.decodeThreads ?? os.availableParallelism());
    this.modelDir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
    this.decoderArgs = options.decoderArgs ?? POCKETSPHINX_DECODER_ARGS;
    this.maxIdle = options.maxIdleDecoders ?? 4;
    this.spare = Math.min(options.spareDecoders ?? 1, this.maxIdle);
    limitMallocArenas(2);
    // Measured per recognizer thread (0 until the first decode); with TOLK_STT_THREADS=libuv not at all.
    if (recognizerThreads()) this.totals.decodeCpuMs = 0;
    this.pool = new DecoderPool(this.maxIdle, (d) => {
      this.totals.loaded = (this.totals.loaded ?? 1) - 1;
      callSlowInBackground<number>('psFree', d).then(scheduleHeapTrim, () => undefined);
    });
    const releaseMs = options.idleReleaseMs ?? IDLE_RELEASE_MS;
    this.shrinkTimer = setInterval(() => {
      // Demand is what takes or loads recognizers: none taken for releaseMs and none loading.
      if (!this.totals.loading && performance.now() - this.lastTakenAtMs >= releaseMs) this.pool.trim(this.spare);
    }, Math.max(50, Math.min(releaseMs, 10_000)));
    this.shrinkTimer.unref();
  }

  /** Idle decoders ready for a stream without vocabulary now. */
  get readyDecoders(): number {
    return this.pool.plainCount;
  }

  /**
   * Loads decoders until `count` are idle (at most the pool's size), ahead of the next streams; they
   * are kept at least `idleReleaseMs` from now.
   */
  async prewarm(count = 1): Promise<void> {
    this.lastTakenAtMs = performance.now();
    const missing = Math.min(count, this.maxIdle) - this.pool.plainCount;
    const made = await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.createDecoder()));
    for (const d of made) this.pool.put(d, '');
    this.lastTakenAtMs = performance.now();
  }

  /**
   * Starts loading one more decoder in the background (for a stream refused until there is one),
   * unless as many as the pool keeps are idle or loading already.
   */
  loadAhead(): void {
    if (this.closed || this.pool.plainCount + (this.totals.loading ?? 0) >= this.maxIdle) return;
    this.lastTakenAtMs = performance.now();
    this.createDecoder().then((d) => this.pool.put(d, ''), () => undefined);
  }

  async open(options: SttStreamOptions): Promise<SttStream> {
    const primary = options.language.split('-')[0]?.toLowerCase() ?? '';
    if (!this.capabilities.languages.includes(primary)) {
      throw new Error(`pocketsphinx does not recognize ${options.language}`);
    }
    this.lastTakenAtMs = performance.now();
    const key = vocabularyKey(options.vocabulary ?? []);
    let decoder = key ? (this.pool.take(key) as number | undefined) : undefined;
    let decoderKey = key;
    if (decoder === undefined) {
      decoder = (this.pool.take('') as number | undefined) ?? (await this.createDecoder());
      const knownPhones = (word: string): Promise<string | undefined> => dictionaryPhones(this.modelDir, word);
      if (!(await addVocabulary(decoder, key ? key.split('\n') : [], knownPhones))) decoderKey = '';
    }
    this.refill();
    return new PocketsphinxStream(decoder, (d) => this.pool.put(d, decoderKey), this.totals, this.scheduler, options.internal ? undefined : this.context);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.shrinkTimer);
    await this.refilling;
    this.pool.clear();
  }

  /** Loads decoders in the background until `spare` are idle. */
  private refill(): void {
    if (this.refilling || this.closed || this.pool.plainCount >= this.spare) return;
    this.refilling = (async () => {
      try {
        while (!this.closed && this.pool.plainCount < this.spare) this.pool.put(await this.createDecoder(), '');
      } catch {
        // Loading failed (out of memory?): the next open() loads on demand and reports the error.
      } finally {
        this.refilling = undefined;
      }
    })();
  }

  private primer: Int16Array | undefined | null = null;
  /**
   * A decoder's live cepstral mean starts from a generic prior, so its first utterance is
   * recognized poorly. Decoding a few seconds of speech at creation adapts it: measured on the
   * LibriVox recordings with fresh decoders, WER 39.4% unprimed vs 32.4% primed. The speech is made
   * by espeak-ng (undefined when it is not installed: decoders then start unprimed).
   */
  private primerAudio(): Int16Array | undefined {
    if (this.primer !== null) return this.primer;
    try {
      const wav = execFileSync('espeak-ng', ['-v', 'en-us', '--stdout', PRIMER_TEXT], { timeout: 10_000 });
      const { samples, sampleRateHz } = readWav(wav);
      this.primer = resample(samples, sampleRateHz, SAMPLE_RATE_HZ);
    } catch {
      this.primer = undefined;
    }
    return this.primer;
  }

  /**
   * Loads a decoder, behind running streams' calls on the recognizer's threads; when it is the only
   * load in flight, measures the resident memory it added.
   */
  private async createDecoder(): Promise<number> {
    this.totals.loads = (this.totals.loads ?? 0) + 1;
    this.totals.loading = (this.totals.loading ?? 0) + 1;
    const alone = this.totals.loading === 1;
    const before = alone ? residentMb() : undefined;
    try {
      const decoder = await this.loadDecoder();
      this.totals.loaded = (this.totals.loaded ?? 0) + 1;
      // Loading allocates and frees ~400 MB of scratch (measured at start-up): give it back.
      scheduleHeapTrim();
      const after = residentMb();
      if (before !== undefined && after !== undefined && this.totals.loading === 1 && after > before) {
        this.totals.mbPerRecognizer = Math.round(((this.totals.mbPerRecognizer ?? DEFAULT_MB_PER_DECODER) * 0.5 + (after - before) * 0.5) * 10) / 10;
      }
      return decoder;
    } finally {
      this.totals.loading = (this.totals.loading ?? 1) - 1;
    }
  }

  private async loadDecoder(): Promise<number> {
    const call = callSlowInBackground;
    const l = loadLib();
    const m = this.modelDir;
    const argv = ['-hmm', `${m}/en-us`, '-lm', `${m}/en-us.lm.bin`, '-dict', await decoderDictionary(m), ...this.decoderArgs];
    const config = l.cmdLnParse(null, l.psArgs(), argv.length, argv, 1);
    if (!config) throw new Error('pocketsphinx rejected its configuration');
    const decoder = await call<number>('psInit', config);
    if (!decoder) throw new Error(`pocketsphinx failed to load the model in ${m}`);
    const primer = this.primerAudio();
    if (primer) {
      l.psStartUtt(decoder);
      await call<number>('psProcessRaw', decoder, primer, primer.length, 0, 0);
      await call<number>('psEndUtt', decoder);
    }
    return decoder;
  }
}

export { guessPhones } from './pocketsphinx-phones.js';
