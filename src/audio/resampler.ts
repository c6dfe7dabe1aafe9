/**
 * Streaming band-limited resampler for mono s16 audio (windowed-sinc, polyphase table).
 * Used on ingest (client rate → engine rate) and egress (TTS rate → client rate), docs/architecture.md "The pipeline".
 */

const HALF_TAPS = 16;
const PHASES = 256;

/**
 * Converts a stream of samples from one rate to another, keeping filter state between calls so
 * that chunk boundaries leave no clicks. Output length over a whole stream is
 * `round(inputLength × outRateHz / inRateHz)` within one sample.
 */
export class StreamingResampler {
  readonly inRateHz: number;
  readonly outRateHz: number;
  private readonly step: number;
  private readonly table: Float32Array;
  private history: Float32Array = new Float32Array(HALF_TAPS);
  /** Position of the next output sample, in input samples relative to `history[0]`. */
  private position = HALF_TAPS;

  /**
   * @param inRateHz - rate of the samples given to `process`.
   * @param outRateHz - rate of the samples it returns.
   * @throws {RangeError} when a rate is not a positive integer.
   */
  constructor(inRateHz: number, outRateHz: number) {
    if (!Number.isInteger(inRateHz) || inRateHz <= 0 || !Number.isInteger(outRateHz) || outRateHz <= 0) {
      throw new RangeError(`sample rates must be positive integers (got ${inRateHz} → ${outRateHz})`);
    }
    this.inRateHz = inRateHz;
    this.outRateHz = outRateHz;
    this.step = inRateHz / outRateHz;
    // Cut-off a little under the lower Nyquist frequency, relative to the input rate.
    const cutoff = (0.92 * Math.min(inRateHz, outRateHz)) / inRateHz;
    this.table = buildKernelTable(cutoff);
  }

  /** Resamples the next block of the stream. Returns a new array (possibly empty). */
  process(input: Int16Array): Int16Array {
    if (this.inRateHz === this.outRateHz) return input.slice();
    const buf = new Float32Array(this.history.length + input.length);
    buf.set(this.history, 0);
    for (let i = 0; i < input.length; i++) buf[this.history.length + i] = input[i] ?? 0;

    const out: number[] = [];
    let pos = this.position;
    const table = this.table;
    const taps = 2 * HALF_TAPS;
    while (Math.floor(pos) + HALF_TAPS < buf.length) {
      const base = Math.floor(pos);
      const phase = Math.min(PHASES - 1, Math.round((pos - base) * PHASES));
      const row = phase * taps;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += (buf[base - HALF_TAPS + 1 + k] ?? 0) * (table[row + k] ?? 0);
      out.push(acc);
      pos += this.step;
    }
    // Keep what the next call still needs: HALF_TAPS samples before the next position.
    const keepFrom = Math.max(0, Math.floor(pos) - HALF_TAPS);
    this.history = buf.slice(keepFrom);
    this.position = pos - keepFrom;
    return clampToInt16(out);
  }

  /** Drains the filter at the end of a stream by feeding silence. */
  flush(): Int16Array {
    return this.process(new Int16Array(HALF_TAPS * 2));
  }
}

function buildKernelTable(cutoff: number): Float32Array {
  const taps = 2 * HALF_TAPS;
  const table = new Float32Array(PHASES * taps);
  for (let p = 0; p < PHASES; p++) {
    const frac = p / PHASES;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const x = k - HALF_TAPS + 1 - frac; // distance from the output position, in input samples
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
      const w = 0.5 + 0.5 * Math.cos((Math.PI * x) / (HALF_TAPS + 1)); // Hann window
      const v = cutoff * sinc * w;
      table[p * taps + k] = v;
      sum += v;
    }
    for (let k = 0; k < taps; k++) table[p * taps + k] = (table[p * taps + k] ?? 0) / sum; // unity DC gain
  }
  return table;
}

function clampToInt16(values: number[]): Int16Array {
  const out = new Int16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i] ?? 0);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Resamples a whole buffer in one call. */
export function resample(samples: Int16Array, inRateHz: number, outRateHz: number): Int16Array {
  if (inRateHz === outRateHz) return samples.slice();
  const r = new StreamingResampler(inRateHz, outRateHz);
  const a = r.process(samples);
  const b = r.flush();
  const wanted = Math.round((samples.length * outRateHz) / inRateHz);
  const out = new Int16Array(wanted);
  out.set(a.subarray(0, wanted), 0);
  if (a.length < wanted) out.set(b.subarray(0, wanted - a.length), a.length);
  return out;
}
