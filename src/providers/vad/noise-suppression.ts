import { Worker } from 'node:worker_threads';
import { StreamingResampler } from '../../audio/resampler.js';
import { FrameSplitter } from './endpointer.js';
import type { RnnoiseReply, RnnoiseRequest } from './rnnoise-thread.js';

/** RNNoise's rate and frame: 10 ms at 48 kHz. */
const RNNOISE_RATE_HZ = 48_000;
const RNNOISE_FRAME = 480;

/**
 * The process's RNNoise worker thread (rnnoise-thread.ts): started on first use, shared by every
 * suppressed stream, kept from holding the process open while no request is in flight.
 */
class RnnoiseThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (s: Int16Array) => void; reject: (e: Error) => void }>();
  private nextSeq = 1;
  private nextId = 1;
  private failure: Error | undefined;
  /** Resolves once the WebAssembly module is loaded; rejects when it cannot load. */
  readonly ready: Promise<void>;

  constructor() {
    this.worker = startThread();
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: RnnoiseReply) => {
        if (m.op === 'ready') resolve();
        else if (m.op === 'processed') this.settle(m.seq, m.samples);
        else this.fail(new Error(m.message), m.seq, reject);
      });
      this.worker.on('error', (err) => this.fail(err, undefined, reject));
      this.worker.on('exit', (code) => this.fail(new Error(`the RNNoise thread exited (${code})`), undefined, reject));
    });
    this.ready.catch(() => undefined);
  }

  /** A new stream's denoise state; its id for {@link process} and {@link close}. */
  open(): number {
    const id = this.nextId++;
    this.post({ op: 'open', id });
    return id;
  }

  /** Denoises whole 480-sample frames at 48 kHz of stream `id`. */
  process(id: number, samples: Int16Array): Promise<Int16Array> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.nextSeq++;
    const result = new Promise<Int16Array>((resolve, reject) => this.pending.set(seq, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.post({ op: 'process', id, seq, samples }, [samples.buffer as ArrayBuffer]);
    return result;
  }

  /** Frees stream `id`'s state. */
  close(id: number): void {
    if (!this.failure) this.post({ op: 'close', id });
  }

  private post(m: RnnoiseRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private settle(seq: number, samples: Int16Array): void {
    this.pending.get(seq)?.resolve(samples);
    this.pending.delete(seq);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(err: Error, seq: number | undefined, rejectReady: (e: Error) => void): void {
    if (seq !== undefined) {
      this.pending.get(seq)?.reject(err);
      this.pending.delete(seq);
      return;
    }
    this.failure = err;
    rejectReady(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (thread === this) thread = undefined;
  }

  /** Ends the thread (tests, process shutdown). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Starts rnnoise-thread: the built server runs the .js next to this file; under tsx (tests, bench)
 * the thread registers tsx's loader before importing the .ts source (a worker does not inherit it).
 */
function startThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./rnnoise-thread.js', import.meta.url));
  const entry = JSON.stringify(new URL('./rnnoise-thread.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((m) => { m.register(); return import(${entry}); })`, { eval: true });
}

let thread: RnnoiseThread | undefined;

function sharedThread(): RnnoiseThread {
  thread ??= new RnnoiseThread();
  return thread;
}

/**
 * Background noise and voice suppression for one stream (spec 002 `features.background_voice_cancellation`,
 * docs/vad.md): RNNoise at 48 kHz in 10 ms frames, with the project's resampler around it. Runs on
 * the shared RNNoise worker thread; adds about 10 ms of framing delay plus the resamplers' 1 ms.
 */
export class NoiseSuppressor {
  private readonly up: StreamingResampler;
  private readonly down: StreamingResampler;
  private readonly frames = new FrameSplitter(RNNOISE_FRAME);
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly rnnoise: RnnoiseThread, private readonly id: number, sampleRateHz: number) {
    this.up = new StreamingResampler(sampleRateHz, RNNOISE_RATE_HZ);
    this.down = new StreamingResampler(RNNOISE_RATE_HZ, sampleRateHz);
  }

  /**
   * Opens a suppressor for audio at `sampleRateHz` (any positive integer rate).
   * @throws {Error} when RNNoise cannot load (the message says why); {RangeError} for a bad rate.
   */
  static async open(sampleRateHz: number): Promise<NoiseSuppressor> {
    const rnnoise = sharedThread();
    await rnnoise.ready;
    const suppressor = new NoiseSuppressor(rnnoise, rnnoise.open(), sampleRateHz);
    return suppressor;
  }

  /**
   * Denoises the next block of the stream (any length); resolves with the denoised audio at the
   * same rate, in order (about 10 ms behind the input: a partial frame waits for the next block).
   */
  process(samples: Int16Array): Promise<Int16Array> {
    const result = this.queue.then(async () => {
      const frames = this.frames.frames(this.up.process(samples));
      if (frames.length === 0 || this.closed) return new Int16Array(0);
      const block = new Int16Array(frames.length * RNNOISE_FRAME);
      frames.forEach((f, i) => block.set(f, i * RNNOISE_FRAME));
      return this.down.process(await this.rnnoise.process(this.id, block));
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Frees the stream's RNNoise state after the blocks in flight. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.queue.then(() => this.rnnoise.close(this.id));
  }
}

/** Stops the shared RNNoise thread (the next suppressor starts a new one). */
export async function stopNoiseSuppression(): Promise<void> {
  const t = thread;
  thread = undefined;
  await t?.terminate();
}
