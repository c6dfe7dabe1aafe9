/**
 * Test audio for bench/vad.ts and bench/noise-suppression.ts: the five LibriVox recordings of
 * Debian's pocketsphinx-testdata, with their speech located, joined by pauses of known length, and
 * mixed with white, pink or babble noise at a chosen SNR. Deterministic (seeded noise).
 */
import { concatSamples, rmsDbfs } from '../src/audio/pcm.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';

export const RATE = 16000;

/** A recording with its reference transcript and the span of its speech (samples). */
export interface Recording { id: string; reference: string; samples: Int16Array; speechStart: number; speechEnd: number }

/** The noises of the bench. */
export type NoiseKind = 'white' | 'pink' | 'babble';

/**
 * The five recordings; each one's speech is the span from its first to its last 10 ms frame within
 * 35 dB of its loudest frame (one sentence read without a break: a "continuous speech stretch").
 */
export function recordings(): Recording[] {
  return librivoxRecordings().map((r) => {
    const { samples, sampleRateHz } = loadWav(r.path);
    if (sampleRateHz !== RATE) throw new Error(`${r.id}: expected ${RATE} Hz`);
    const frame = RATE / 100;
    const levels: number[] = [];
    for (let i = 0; i + frame <= samples.length; i += frame) levels.push(rmsDbfs(samples, i, i + frame));
    const threshold = Math.max(...levels) - 35;
    const first = levels.findIndex((l) => l > threshold);
    const last = levels.length - 1 - [...levels].reverse().findIndex((l) => l > threshold);
    return { id: r.id, reference: r.reference, samples, speechStart: first * frame, speechEnd: (last + 1) * frame };
  });
}

/** A stream of several recordings with pauses between them, and where its speech is (ms). */
export interface Scene { samples: Int16Array; speech: Array<{ startMs: number; endMs: number }> }

/**
 * The recordings' speech spans one after another, each followed by a pause: `pausesMs[i]` of
 * digital silence (before noise is added) after recording i, and 1 s before the first.
 */
export function scene(recs: Recording[], pausesMs: number[]): Scene {
  const parts: Int16Array[] = [new Int16Array(RATE)];
  const speech: Scene['speech'] = [];
  let at = RATE;
  recs.forEach((r, i) => {
    const s = r.samples.subarray(r.speechStart, r.speechEnd);
    speech.push({ startMs: (at * 1000) / RATE, endMs: ((at + s.length) * 1000) / RATE });
    parts.push(s, new Int16Array(Math.round(((pausesMs[i % pausesMs.length] ?? 1000) * RATE) / 1000)));
    at += s.length + Math.round(((pausesMs[i % pausesMs.length] ?? 1000) * RATE) / 1000);
  });
  return { samples: concatSamples(parts), speech };
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 0x1_0000_0000) * 2 - 1;
  };
}

/** Unit-scale noise of `length` samples: white, pink (Paul Kellet's filter) or six-talker babble (reversed LibriVox speech). */
export function noise(kind: NoiseKind, length: number, recs: Recording[], seed = 7): Float64Array {
  const rand = prng(seed);
  const out = new Float64Array(length);
  if (kind === 'white') {
    for (let i = 0; i < length; i++) out[i] = rand();
  } else if (kind === 'pink') {
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
    for (let i = 0; i < length; i++) {
      const w = rand();
      b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759; b2 = 0.969 * b2 + w * 0.153852;
      b3 = 0.8665 * b3 + w * 0.3104856; b4 = 0.55 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.016898;
      out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
      b6 = w * 0.115926;
    }
  } else {
    const talk = concatSamples(recs.map((r) => r.samples.subarray(r.speechStart, r.speechEnd))).reverse();
    for (let t = 0; t < 6; t++) {
      const offset = Math.floor(((t + 1) * talk.length) / 7);
      for (let i = 0; i < length; i++) out[i] = (out[i] ?? 0) + (talk[(i + offset) % talk.length] ?? 0);
    }
  }
  return out;
}

function power(x: ArrayLike<number>, ranges: Array<[number, number]>): number {
  let sum = 0;
  let n = 0;
  for (const [a, b] of ranges) for (let i = a; i < b; i++) { sum += (x[i] ?? 0) ** 2; n++; }
  return n > 0 ? sum / n : 0;
}

/**
 * `samples` plus `kind` noise over its whole length, scaled so that speech power (over `speech`,
 * ms spans) to noise power is `snrDb`. `snrDb` Infinity returns the samples unchanged.
 */
export function addNoise(samples: Int16Array, speech: Scene['speech'], kind: NoiseKind, snrDb: number, recs: Recording[]): Int16Array {
  if (!Number.isFinite(snrDb)) return samples.slice();
  const n = noise(kind, samples.length, recs);
  const ranges = speech.map((s): [number, number] => [Math.round((s.startMs * RATE) / 1000), Math.round((s.endMs * RATE) / 1000)]);
  const gain = Math.sqrt(power(samples, ranges) / (power(n, [[0, n.length]]) * 10 ** (snrDb / 10)));
  return Int16Array.from(samples, (v, i) => Math.max(-32768, Math.min(32767, Math.round(v + (n[i] ?? 0) * gain))));
}
