/**
 * PCM helpers. Inside Tolk audio is mono signed 16-bit little-endian (`pcm_s16le`) carried as
 * `Int16Array` together with its sample rate, as spec 002 Part 1 ("audio" parameters) describes.
 */

/** A block of mono s16 samples and the rate they were captured at. */
export interface PcmChunk {
  samples: Int16Array;
  sampleRateHz: number;
}

/** The inbound/outbound audio format of a stream (spec 002 Part 1, `config.audio`). */
export interface AudioFormat {
  format: 'pcm_s16le';
  sampleRateHz: number;
  channels: 1;
}

/** Sample rates accepted on inbound streams; everything is resampled to the engines' rates. */
export const SUPPORTED_SAMPLE_RATES_HZ: readonly number[] = [8000, 16000, 24000, 48000];

/** The `audio` block of a stream config (spec 002 Part 1, and leg 2's in Part 3). */
export interface StreamAudioBlock {
  /** Only `pcm_s16le` is supported. */
  format: string;
  /** One of {@link SUPPORTED_SAMPLE_RATES_HZ}, in Hz. */
  sample_rate: number;
  /** Only mono (1). */
  channels: number;
}

/**
 * Checks of a stream config's audio block that are not about its shape (spec 002 Part 2 step 2).
 * @returns the description of what is wrong (a 400 `error` event), or undefined when supported.
 */
export function audioProblem(audio: StreamAudioBlock): string | undefined {
  if (audio.format !== 'pcm_s16le') return `Invalid audio format "${audio.format}": only pcm_s16le is supported`;
  if (audio.channels !== 1) return `Invalid audio channels ${audio.channels}: only mono (1) is supported`;
  if (!SUPPORTED_SAMPLE_RATES_HZ.includes(audio.sample_rate)) {
    return `Invalid audio sample_rate ${audio.sample_rate}: supported rates are ${SUPPORTED_SAMPLE_RATES_HZ.join(', ')} Hz`;
  }
  return undefined;
}

/**
 * Splits a byte stream of s16le audio into whole samples, keeping an odd trailing byte for the
 * next call (WebSocket frames need not end on a sample boundary).
 */
export class S16leDecoder {
  private carry: number | undefined;

  /** Returns the whole samples contained in `bytes` plus any carried byte. */
  decode(bytes: Uint8Array): Int16Array {
    let src = bytes;
    if (this.carry !== undefined) {
      const joined = new Uint8Array(bytes.length + 1);
      joined[0] = this.carry;
      joined.set(bytes, 1);
      src = joined;
      this.carry = undefined;
    }
    const whole = src.length - (src.length % 2);
    if (whole < src.length) this.carry = src[src.length - 1];
    const out = new Int16Array(whole / 2);
    const view = new DataView(src.buffer, src.byteOffset, whole);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
    return out;
  }
}

/** Encodes samples as s16le bytes (a copy, safe to hand to a socket). */
export function encodeS16le(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, i * 2);
  return out;
}

/** Root-mean-square level of `samples` in dBFS (−∞ for digital silence is clamped to −100). */
export function rmsDbfs(samples: Int16Array, start = 0, end = samples.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) {
    const s = (samples[i] ?? 0) / 32768;
    sum += s * s;
  }
  const n = Math.max(1, end - start);
  const rms = Math.sqrt(sum / n);
  return rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
}

/** Concatenates sample blocks. */
export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Int16Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
