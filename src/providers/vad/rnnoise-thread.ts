/**
 * The worker thread that runs RNNoise (`@shiguredo/rnnoise-wasm`) for {@link NoiseSuppressor}: one
 * WebAssembly instance, one denoise state per stream. Messages ({@link RnnoiseRequest}) come from
 * noise-suppression.ts; replies are {@link RnnoiseReply}. RNNoise costs about 1.7 ms of CPU per
 * 10 ms frame in this WebAssembly build, so it runs here rather than on the event loop.
 */
import { parentPort } from 'node:worker_threads';
import type { DenoiseState, Rnnoise } from '@shiguredo/rnnoise-wasm';

/** What the main thread asks: open/close a stream's state, or denoise whole 480-sample frames at 48 kHz. */
export type RnnoiseRequest =
  | { op: 'open'; id: number }
  | { op: 'close'; id: number }
  | { op: 'process'; id: number; seq: number; samples: Int16Array };

/** What the thread answers: `ready` once loaded, each `process` in order, or why it cannot run. */
export type RnnoiseReply =
  | { op: 'ready'; frameSize: number }
  | { op: 'processed'; seq: number; samples: Int16Array }
  | { op: 'failed'; seq?: number; message: string };

/**
 * Loads the WebAssembly module. The package is built for browsers only (its loader throws unless a
 * `window` or `WorkerGlobalScope` exists) but needs nothing else from one: a `window` global is
 * defined in this thread, which runs nothing but RNNoise, while it loads.
 */
async function loadRnnoise(): Promise<Rnnoise> {
  const g = globalThis as { window?: unknown };
  g.window ??= globalThis;
  const { Rnnoise: R } = await import('@shiguredo/rnnoise-wasm');
  return R.load();
}

const port = parentPort;
if (!port) throw new Error('rnnoise-thread.ts runs as a worker thread');
const states = new Map<number, DenoiseState>();
const loaded = loadRnnoise();
loaded.then(
  (r) => port.postMessage({ op: 'ready', frameSize: r.frameSize } satisfies RnnoiseReply),
  (err: unknown) => port.postMessage({ op: 'failed', message: `RNNoise did not load: ${String(err)}` } satisfies RnnoiseReply),
);

port.on('message', (m: RnnoiseRequest) => {
  void loaded.then((rnnoise) => handle(rnnoise, m), () => undefined);
});

function handle(rnnoise: Rnnoise, m: RnnoiseRequest): void {
  if (m.op === 'open') {
    states.set(m.id, rnnoise.createDenoiseState());
  } else if (m.op === 'close') {
    states.get(m.id)?.destroy();
    states.delete(m.id);
  } else {
    const state = states.get(m.id);
    if (!state) {
      port?.postMessage({ op: 'failed', seq: m.seq, message: `no denoise state ${m.id}` } satisfies RnnoiseReply);
      return;
    }
    const out = denoise(state, rnnoise.frameSize, m.samples);
    port?.postMessage({ op: 'processed', seq: m.seq, samples: out } satisfies RnnoiseReply, [out.buffer as ArrayBuffer]);
  }
}

/** Denoises whole frames (RNNoise takes floats on the s16 scale). */
function denoise(state: DenoiseState, frameSize: number, samples: Int16Array): Int16Array {
  const out = new Int16Array(samples.length);
  const frame = new Float32Array(frameSize);
  for (let offset = 0; offset + frameSize <= samples.length; offset += frameSize) {
    for (let i = 0; i < frameSize; i++) frame[i] = samples[offset + i] ?? 0;
    state.processFrame(frame);
    for (let i = 0; i < frameSize; i++) out[offset + i] = Math.max(-32768, Math.min(32767, Math.round(frame[i] ?? 0)));
  }
  return out;
}
