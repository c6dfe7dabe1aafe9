import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { concatSamples } from '../../audio/pcm.js';
import { resample } from '../../audio/resampler.js';
import { readWav } from '../../audio/wav.js';
import { AsyncQueue } from '../../common/async-queue.js';
import { callAsync, loadLib } from './pocketsphinx-lib.js';
import { hypothesisConfidence } from './pocketsphinx-confidence.js';
import { DecoderPool, vocabularyKey } from './pocketsphinx-pool.js';
import { limitMallocArenas, scheduleHeapTrim } from './native-heap.js';
import { guessPhones } from './pocketsphinx-phones.js';
import { reportedRequest } from '../engine-reporting.js';
import type { EngineContext } from '../engine-module.js';
import { DecodeScheduler } from './decode-scheduler.js';
import os from 'node:os';
import type { SttCapabilities, SttProvider, SttStats, SttStream, SttStreamOptions, SttTranscript } from './types.js';

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

/** The rate the en-us acoustic model was trained at, and so the only rate a decoder takes, in Hz. */
const SAMPLE_RATE_HZ = 16000;

/** Samples handed to the decoder per call (100 ms at 16 kHz): fewer calls, interims every 100 ms. */
const DECODE_BLOCK_SAMPLES = 1600;

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
 * Streaming STT on pocketsphinx, in process through koffi (DESIGN §4). Every decoder call runs on
 * libuv's thread pool (koffi async calls), so decoding never blocks the event loop; calls on one
 * decoder are serialized, and all go through one {@link DecodeScheduler} (as many at once as cores,
 * streams in turn, finals first). A stream that is behind skips interims: under load interims thin
 * out, finals stay. Decoders (~140 MB and ~350 ms to load each) are pooled between streams.
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
  private readonly totals: SttStats = { audioMs: 0, decodeMs: 0, loads: 0, loading: 0 };
  private readonly scheduler: DecodeScheduler;
  /** Where each utterance's final is reported (`/metrics`); none outside an engine configuration. */
  private readonly context: EngineContext | undefined;

  /** Audio decoded and time spent in `ps_process_raw` since start, in ms (streams only, not priming). */
  stats(): SttStats {
    return { ...this.totals };
  }

  /**
   * @param options.modelDir - folder holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`.
   * @param options.maxIdleDecoders - decoders kept loaded between streams (default 4).
   * @param options.spareDecoders - decoders kept ready ahead of the next stream: when a stream takes
   *   one and fewer remain, another is loaded in the background (default 1), so opening a stream
   *   rarely waits the ~1 s CPU a decoder costs to load and prime.
   * @param options.decoderArgs - pocketsphinx arguments beyond the model paths (default
   *   {@link POCKETSPHINX_DECODER_ARGS}).
   * @param options.decodeThreads - decoder calls running at once (default: the cores Node sees).
   */
  constructor(options: { modelDir?: string; maxIdleDecoders?: number; spareDecoders?: number; decoderArgs?: readonly string[]; decodeThreads?: number; context?: EngineContext } = {}) {
    this.context = options.context;
    this.scheduler = new DecodeScheduler(options.decodeThreads ?? os.availableParallelism());
    this.modelDir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
    this.decoderArgs = options.decoderArgs ?? POCKETSPHINX_DECODER_ARGS;
    this.maxIdle = options.maxIdleDecoders ?? 4;
    this.spare = Math.min(options.spareDecoders ?? 1, this.maxIdle);
    limitMallocArenas(2);
    this.pool = new DecoderPool(this.maxIdle, (d) => {
      loadLib().psFree(d);
      scheduleHeapTrim();
    });
  }

  /** Loads decoders until `count` are idle (at most the pool's size), ahead of the next streams. */
  async prewarm(count = 1): Promise<void> {
    const missing = Math.min(count, this.maxIdle) - this.pool.plainCount;
    const made = await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.createDecoder()));
    for (const d of made) this.pool.put(d, '');
  }

  async open(options: SttStreamOptions): Promise<SttStream> {
    const primary = options.language.split('-')[0]?.toLowerCase() ?? '';
    if (!this.capabilities.languages.includes(primary)) {
      throw new Error(`pocketsphinx does not recognize ${options.language}`);
    }
    const key = vocabularyKey(options.vocabulary ?? []);
    let decoder = key ? this.pool.take(key) : undefined;
    let decoderKey = key;
    if (decoder === undefined) {
      decoder = this.pool.take('') ?? (await this.createDecoder());
      if (!(await addVocabulary(decoder, key ? key.split('\n') : []))) decoderKey = '';
    }
    this.refill();
    return new PocketsphinxStream(decoder, (d) => this.pool.put(d, decoderKey), this.totals, this.scheduler, options.internal ? undefined : this.context);
  }

  async close(): Promise<void> {
    this.closed = true;
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

  private async createDecoder(): Promise<unknown> {
    this.totals.loads = (this.totals.loads ?? 0) + 1;
    this.totals.loading = (this.totals.loading ?? 0) + 1;
    try {
      return await this.loadDecoder();
    } finally {
      this.totals.loading = (this.totals.loading ?? 1) - 1;
    }
  }

  private async loadDecoder(): Promise<unknown> {
    const l = loadLib();
    const m = this.modelDir;
    const argv = ['-hmm', `${m}/en-us`, '-lm', `${m}/en-us.lm.bin`, '-dict', `${m}/cmudict-en-us.dict`, ...this.decoderArgs];
    const config = l.cmdLnParse(null, l.psArgs(), argv.length, argv, 1);
    if (!config) throw new Error('pocketsphinx rejected its configuration');
    const decoder = await callAsync<unknown>(l.psInit, config);
    if (!decoder) throw new Error(`pocketsphinx failed to load the model in ${m}`);
    const primer = this.primerAudio();
    if (primer) {
      l.psStartUtt(decoder);
      await callAsync<number>(l.psProcessRaw, decoder, primer, primer.length, 0, 0);
      await callAsync<number>(l.psEndUtt, decoder);
    }
    return decoder;
  }
}

class PocketsphinxStream implements SttStream {
  private readonly events = new AsyncQueue<SttTranscript>();
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private inUtterance = false;
  private decodedSamples = 0;
  private lastInterim = '';
  private closed = false;
  private queuedSamples = 0;
  /** Flushes whose final is not out yet: while any is, this stream's calls go first. */
  private flushesAwaited = 0;
  private readonly urgent = (): boolean => this.flushesAwaited > 0;

  constructor(
    private readonly decoder: unknown,
    private readonly onRelease: (decoder: unknown) => void,
    private readonly totals: SttStats,
    private readonly scheduler: DecodeScheduler,
    private readonly context: EngineContext | undefined,
  ) {}

  get pendingMs(): number {
    return (this.queuedSamples * 1000) / SAMPLE_RATE_HZ;
  }

  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.queuedSamples += samples.length;
    this.pending.push(samples);
    this.pendingSamples += samples.length;
    if (this.pendingSamples >= DECODE_BLOCK_SAMPLES) this.enqueueDecode(true);
  }

  flush(): Promise<SttTranscript> {
    if (this.closed) return Promise.reject(new Error('stream closed'));
    this.flushesAwaited++;
    this.enqueueDecode(false);
    const result = this.chain.then(() => reportedRequest(this.context, 'stt', async () => {
      const l = loadLib();
      let text = '';
      let confidence: number | undefined;
      if (this.inUtterance) {
        await this.scheduler.run(this.urgent, () => callAsync<number>(l.psEndUtt, this.decoder));
        text = (l.psGetHyp(this.decoder, [0]) ?? '').trim();
        if (text) confidence = await hypothesisConfidence(this.decoder);
      }
      const final: SttTranscript = { type: 'final', text, audioMs: (this.decodedSamples * 1000) / SAMPLE_RATE_HZ, confidence };
      this.inUtterance = false;
      this.decodedSamples = 0;
      this.lastInterim = '';
      this.events.push(final);
      return final;
    }));
    this.chain = result.catch(() => undefined).finally(() => this.flushesAwaited--);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain; // finish queued decoding and flushes first
    this.closed = true;
    const l = loadLib();
    if (this.inUtterance) await callAsync<number>(l.psEndUtt, this.decoder).catch(() => undefined);
    this.events.end();
    this.onRelease(this.decoder);
  }

  [Symbol.asyncIterator](): AsyncIterator<SttTranscript> {
    return this.events[Symbol.asyncIterator]();
  }

  /** Queues the pending audio for decoding; `withInterim` reads the partial hypothesis after it. */
  private enqueueDecode(withInterim: boolean): void {
    if (this.pendingSamples === 0) return;
    const block = concatSamples(this.pending);
    this.pending = [];
    this.pendingSamples = 0;
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const l = loadLib();
      if (!this.inUtterance) {
        l.psStartUtt(this.decoder);
        this.inUtterance = true;
      }
      const decodeMs = await this.scheduler.run(this.urgent, async () => {
        const t0 = performance.now();
        await callAsync<number>(l.psProcessRaw, this.decoder, block, block.length, 0, 0);
        return performance.now() - t0;
      });
      this.totals.decodeMs += decodeMs;
      this.totals.audioMs += (block.length * 1000) / SAMPLE_RATE_HZ;
      this.decodedSamples += block.length;
      this.queuedSamples -= block.length;
      // Behind (more audio queued after this block): its interim would be stale; the final is not.
      if (!withInterim || this.queuedSamples >= DECODE_BLOCK_SAMPLES) return;
      const hyp = (l.psGetHyp(this.decoder, [0]) ?? '').trim();
      if (hyp && hyp !== this.lastInterim) {
        this.lastInterim = hyp;
        this.events.push({ type: 'interim', text: hyp, audioMs: (this.decodedSamples * 1000) / SAMPLE_RATE_HZ });
      }
    });
  }
}

/**
 * Makes the out-of-dictionary `words` recognizable on `decoder` (a letter-to-phone spelling each),
 * off the event loop: `ps_add_word` rebuilds the search, so it is asked to only after the last word.
 * @returns whether any word was added (the decoder then differs from a plain one).
 */
async function addVocabulary(decoder: unknown, words: readonly string[]): Promise<boolean> {
  const l = loadLib();
  const missing = words.flatMap((w) => {
    const phones = l.psLookupWord(decoder, w) === null ? guessPhones(w) : undefined;
    return phones ? [{ word: w, phones }] : [];
  });
  let added = false;
  for (const [i, m] of missing.entries()) {
    const update = i === missing.length - 1 ? 1 : 0;
    if ((await callAsync<number>(l.psAddWord, decoder, m.word, m.phones, update)) >= 0) added = true;
  }
  return added;
}

export { guessPhones } from './pocketsphinx-phones.js';
