import { concatSamples } from '../../audio/pcm.js';
import { AsyncQueue } from '../../common/async-queue.js';
import { callSlow, callSlowTimed, loadLib } from './pocketsphinx-lib.js';
import { hypothesisConfidence } from './pocketsphinx-confidence.js';
import { guessPhones } from './pocketsphinx-phones.js';
import { reportedRequest } from '../engine-reporting.js';
import type { EngineContext } from '../engine-module.js';
import type { DecodeScheduler } from './decode-scheduler.js';
import type { SttStats, SttStream, SttTranscript } from './types.js';

/** The rate the en-us acoustic model was trained at, and so the only rate a decoder takes, in Hz. */
export const SAMPLE_RATE_HZ = 16000;

/** Samples handed to the decoder per call (100 ms at 16 kHz): fewer calls, interims every 100 ms. */
const DECODE_BLOCK_SAMPLES = 1600;

/**
 * One stream on one pocketsphinx decoder (a handle from `ps_init`): audio is decoded in 100 ms
 * blocks through the {@link DecodeScheduler} on the recognizer's threads, interims after each block
 * when the stream is not behind (and the first of each utterance even when it is), a final per flush. The recognizer threads' CPU time of its calls
 * is added to `totals.decodeCpuMs`.
 */
export class PocketsphinxStream implements SttStream {
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
    private readonly decoder: number,
    private readonly onRelease: (decoder: number) => void,
    private readonly totals: SttStats,
    private readonly scheduler: DecodeScheduler,
    private readonly context: EngineContext | undefined,
  ) {}

  /** Adds a call's recognizer-thread CPU time to the totals (when the threads measure it). */
  private spent(call: { cpuMs: number | undefined }): void {
    if (call.cpuMs !== undefined) this.totals.decodeCpuMs = (this.totals.decodeCpuMs ?? 0) + call.cpuMs;
  }

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
        await this.scheduler.run(this.urgent, async () => this.spent(await callSlowTimed<number>('psEndUtt', this.decoder)));
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

  /**
   * Decodes the audio pushed so far (the last partial block too) and reads the hypothesis: with
   * single-pass decoding (no fwdflat/bestpath) it is what `ps_end_utt` would give now, unless the
   * audio that follows changes it.
   */
  hypothesis(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('stream closed'));
    this.enqueueDecode(false);
    const result = this.chain.then(() => (this.inUtterance ? (loadLib().psGetHyp(this.decoder, [0]) ?? '').trim() : ''));
    this.chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain; // finish queued decoding and flushes first
    this.closed = true;
    if (this.inUtterance) await callSlow<number>('psEndUtt', this.decoder).catch(() => undefined);
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
        this.spent(await callSlowTimed<number>('psProcessRaw', this.decoder, block, block.length, 0, 0));
        return performance.now() - t0;
      });
      this.totals.decodeMs += decodeMs;
      this.totals.audioMs += (block.length * 1000) / SAMPLE_RATE_HZ;
      this.decodedSamples += block.length;
      this.queuedSamples -= block.length;
      // Behind (more audio queued after this block, maybe of the next utterances): its interim would
      // be stale, so it is skipped once this utterance has had one; the first is always read, so an
      // utterance with words has an interim before its final however far behind the stream is.
      if (!withInterim || (this.queuedSamples >= DECODE_BLOCK_SAMPLES && this.lastInterim !== '')) return;
      const hyp = (l.psGetHyp(this.decoder, [0]) ?? '').trim();
      if (hyp && hyp !== this.lastInterim) {
        this.lastInterim = hyp;
        this.events.push({ type: 'interim', text: hyp, audioMs: (this.decodedSamples * 1000) / SAMPLE_RATE_HZ });
      }
    });
  }
}

/**
 * Makes the out-of-dictionary `words` recognizable on `decoder`, off the event loop: each with the
 * pronunciation `knownPhones` gives (the full CMU dictionary), else a letter-to-phone spelling;
 * `ps_add_word` rebuilds the search, so it is asked to only after the last word.
 * @returns whether any word was added (the decoder then differs from a plain one).
 */
export async function addVocabulary(decoder: number, words: readonly string[], knownPhones: (word: string) => Promise<string | undefined> = async () => undefined): Promise<boolean> {
  const l = loadLib();
  const missing: Array<{ word: string; phones: string }> = [];
  for (const w of words) {
    if (l.psLookupWord(decoder, w) !== null) continue;
    const phones = (await knownPhones(w)) ?? guessPhones(w);
    if (phones) missing.push({ word: w, phones });
  }
  let added = false;
  for (const [i, m] of missing.entries()) {
    const update = i === missing.length - 1 ? 1 : 0;
    if ((await callSlow<number>('psAddWord', decoder, m.word, m.phones, update)) >= 0) added = true;
  }
  return added;
}
