/**
 * Speech-like test audio for the energy VAD (`providers/vad/energy.ts`): loud tone bursts stand for
 * words, near-silence for pauses, so the real VAD endpoints each long enough pause as an utterance end.
 */

/** One stretch of test audio: a burst of "speech" or a pause, in ms. */
export type PcmSegment = { speechMs: number } | { silenceMs: number };

/** How {@link speechLikePcm} renders its segments. */
export interface SpeechPcmOptions {
  /** Rate of the samples, in Hz. */
  sampleRateHz: number;
  /** Tone of the bursts, in Hz; default 300. */
  frequencyHz?: number;
  /** Peak amplitude of the bursts (s16); default 8000 (about −15 dBFS RMS, far above the VAD's floor). */
  amplitude?: number;
  /** Peak amplitude of the pauses' dither (s16); default 8 (about −70 dBFS: never voiced). */
  noiseAmplitude?: number;
}

/**
 * Mono s16 samples of the segments in order. Deterministic (the pauses' dither is a fixed
 * pseudo-random sequence), so a test gives the VAD the same audio on every run.
 * @example speechLikePcm([{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 600 }], { sampleRateHz: 16000 })
 */
export function speechLikePcm(segments: readonly PcmSegment[], options: SpeechPcmOptions): Int16Array {
  const rate = options.sampleRateHz;
  const lengths = segments.map((s) => Math.round((('speechMs' in s ? s.speechMs : s.silenceMs) * rate) / 1000));
  const out = new Int16Array(lengths.reduce((a, b) => a + b, 0));
  const step = (2 * Math.PI * (options.frequencyHz ?? 300)) / rate;
  const amplitude = options.amplitude ?? 8000;
  const noise = options.noiseAmplitude ?? 8;
  let seed = 0x2545f491;
  let offset = 0;
  segments.forEach((s, k) => {
    const n = lengths[k] ?? 0;
    for (let i = 0; i < n; i++) {
      if ('speechMs' in s) {
        out[offset + i] = Math.round(amplitude * Math.sin(step * (offset + i)));
      } else {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        out[offset + i] = Math.round(((seed / 0x1_0000_0000) * 2 - 1) * noise);
      }
    }
    offset += n;
  });
  return out;
}

/**
 * Splits samples into consecutive blocks of `blockMs` (the last may be shorter), as a client sends
 * audio frames.
 */
export function pcmBlocks(samples: Int16Array, blockMs: number, sampleRateHz: number): Int16Array[] {
  const size = Math.max(1, Math.round((blockMs * sampleRateHz) / 1000));
  const blocks: Int16Array[] = [];
  for (let start = 0; start < samples.length; start += size) blocks.push(samples.subarray(start, start + size));
  return blocks;
}

/**
 * Estimated frequency of a tone, in Hz: upward zero crossings per second between the first and the
 * last one (for checking which voice, and at which rate, synthesized audio arrives). 0 when fewer
 * than two crossings. Trim the edges first where a filter rings.
 */
export function toneFrequencyHz(samples: Int16Array, sampleRateHz: number): number {
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) {
      if (first < 0) first = i;
      last = i;
      crossings++;
    }
  }
  return crossings < 2 ? 0 : ((crossings - 1) * sampleRateHz) / (last - first);
}
