/**
 * Streaming sample-rate conversion for microphone capture: a windowed-sinc low-pass filter (so that
 * speech above the target Nyquist frequency does not fold back as noise) followed by linear
 * interpolation at the target rate. Pure functions and state only, no Web Audio: the same code runs
 * in the AudioWorklet and in tests.
 */

/** Fraction of the output Nyquist frequency kept by the anti-aliasing filter. */
const CUTOFF_OF_NYQUIST = 0.85;
/** Filter taps per unit of decimation ratio (48 kHz → 16 kHz: 61 taps). */
const TAPS_PER_RATIO = 20;

/**
 * Designs a Blackman-windowed sinc low-pass filter with unit DC gain.
 * @param cutoff - cutoff frequency as a fraction of the input sample rate (0 < cutoff < 0.5).
 * @param tapCount - number of taps; made odd so the filter is symmetric around one sample.
 */
export function lowPassTaps(cutoff: number, tapCount: number): Float32Array {
  const n = tapCount % 2 === 1 ? tapCount : tapCount + 1;
  const middle = (n - 1) / 2;
  const taps = new Float32Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const x = k - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (n - 1));
    taps[k] = sinc * window;
    sum += sinc * window;
  }
  for (let k = 0; k < n; k++) taps[k] = (taps[k] ?? 0) / sum;
  return taps;
}

/**
 * Converts a continuous mono stream from `inputRateHz` to `outputRateHz`, chunk by chunk, keeping the
 * filter history and the fractional read position between chunks so that chunk boundaries are
 * inaudible. Output length per chunk varies by at most one sample around `input.length / ratio`.
 */
export class StreamingResampler {
  /** Input samples per output sample (48 kHz → 16 kHz: 3). */
  readonly ratio: number;
  private readonly taps: Float32Array;
  /** The last `taps.length - 1` input samples of the previous chunk. */
  private history: Float32Array;
  /** The last filtered sample of the previous chunk (index -1 of the current one). */
  private previous = 0;
  /** Position of the next output sample, in input samples from the start of the current chunk. */
  private position = 0;

  constructor(inputRateHz: number, outputRateHz: number) {
    if (!(inputRateHz > 0 && outputRateHz > 0)) throw new RangeError('sample rates must be positive');
    this.ratio = inputRateHz / outputRateHz;
    this.taps =
      this.ratio > 1
        ? lowPassTaps((CUTOFF_OF_NYQUIST * 0.5) / this.ratio, Math.ceil(this.ratio * TAPS_PER_RATIO))
        : Float32Array.of(1);
    this.history = new Float32Array(this.taps.length - 1);
  }

  /** Filters and resamples one chunk of float samples in [-1, 1]; returns the output samples. */
  process(input: Float32Array): Float32Array {
    const filtered = this.filter(input);
    const out = new Float32Array(Math.ceil((filtered.length - this.position) / this.ratio) + 1);
    let count = 0;
    let t = this.position;
    while (Math.floor(t) + 1 < filtered.length) {
      const i = Math.floor(t);
      const a = i < 0 ? this.previous : (filtered[i] ?? 0);
      const b = filtered[i + 1] ?? 0;
      out[count++] = a + (b - a) * (t - i);
      t += this.ratio;
    }
    if (filtered.length > 0) {
      this.position = t - filtered.length;
      this.previous = filtered[filtered.length - 1] ?? 0;
    }
    return out.subarray(0, count);
  }

  private filter(input: Float32Array): Float32Array {
    const n = this.taps.length;
    if (n === 1) return input.slice();
    const extended = new Float32Array(this.history.length + input.length);
    extended.set(this.history, 0);
    extended.set(input, this.history.length);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += (this.taps[k] ?? 0) * (extended[i + n - 1 - k] ?? 0);
      out[i] = acc;
    }
    this.history = extended.slice(extended.length - this.history.length);
    return out;
  }
}

/** Converts one float sample in [-1, 1] to signed 16-bit PCM, clamping out-of-range values. */
export function floatToInt16(sample: number): number {
  const s = Math.max(-1, Math.min(1, sample));
  return s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
}

/** Converts signed 16-bit little-endian PCM bytes to float samples; a trailing odd byte is ignored. */
export function int16BytesToFloat(bytes: ArrayBuffer): Float32Array<ArrayBuffer> {
  const view = new DataView(bytes);
  const out = new Float32Array(Math.floor(bytes.byteLength / 2));
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}
