/**
 * G.711 µ-law (PCMU, ITU-T G.711 §2) and A-law (PCMA, for the calls stream's `alaw`): the codec of the public telephone network and of Twilio
 * Media Streams (`audio/x-mulaw`, 8000 Hz, mono, one byte per sample). Inside Tolk audio is s16
 * mono (`src/audio/pcm.ts`); these convert at the edge of a telephony transport.
 */

/** Added to the magnitude before the segment search (G.711: 33 in 14-bit units, 0x84 in 16-bit). */
const BIAS = 0x84;
/** Largest magnitude µ-law can represent after the bias is added (16-bit units). */
const CLIP = 32635;

/** The s16 sample of every µ-law byte (256 entries), built once. */
const DECODE_TABLE: Int16Array = (() => {
  const table = new Int16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const u = ~byte & 0xff;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    table[byte] = u & 0x80 ? -magnitude : magnitude;
  }
  return table;
})();

/** Encodes one s16 sample as a µ-law byte (G.711 §2, with the inverted bits on the line). */
export function mulawEncodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(sign ? -sample : sample, CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = sign | (exponent << 4) | mantissa;
  return ~magnitude & 0xff;
}

/** Decodes one µ-law byte to its s16 sample. */
export function mulawDecodeSample(byte: number): number {
  return DECODE_TABLE[byte & 0xff] ?? 0;
}

/**
 * Encodes s16 samples as µ-law bytes, one byte per sample.
 * @param samples - mono s16 at any rate (Twilio needs 8000 Hz: resample first).
 * @returns a new buffer of `samples.length` bytes.
 */
export function mulawEncode(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = mulawEncodeSample(samples[i] ?? 0);
  return out;
}

/**
 * Decodes µ-law bytes to s16 samples, one sample per byte.
 * @param bytes - µ-law bytes (e.g. a Media Streams `media.payload` after base64 decoding).
 */
export function mulawDecode(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE_TABLE[bytes[i] ?? 0xff] ?? 0;
  return out;
}

/** Decodes one µ-law byte to a linear s16 sample (same as {@link mulawDecodeSample}). */
export const mulawToLinear = mulawDecodeSample;
/** Encodes a linear s16 sample as a µ-law byte (same as {@link mulawEncodeSample}). */
export const linearToMulaw = mulawEncodeSample;

/** Decodes one A-law byte to a linear s16 sample. */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if ((a & 0x80) === 0) magnitude = -magnitude;
  return magnitude;
}

/** Encodes a linear s16 sample as an A-law byte. */
export function linearToAlaw(sample: number): number {
  const sign = sample >= 0 ? 0x80 : 0;
  const magnitude = Math.min(sample >= 0 ? sample : -sample - 1, 32767);
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = exponent === 0 ? (magnitude >> 4) & 0x0f : (magnitude >> (exponent + 3)) & 0x0f;
  return (sign | (exponent << 4) | mantissa) ^ 0x55;
}

/** Call audio encodings (spec 004 stream: `pcm_16`, `pcm_8`, `mulaw`, `alaw`; `pcm16` is the media-leg name of `pcm_16`). */
export type CallAudioEncoding = 'pcm_16' | 'pcm_8' | 'mulaw' | 'alaw';

/**
 * Decodes mono audio of `encoding` to s16 samples: `pcm_16` little-endian 16-bit, `pcm_8` unsigned
 * 8-bit, `mulaw`/`alaw` G.711. An odd trailing byte of `pcm_16` is dropped.
 */
export function decodeToLinear(bytes: Buffer, encoding: CallAudioEncoding): Int16Array {
  if (encoding === 'pcm_16') {
    const n = Math.floor(bytes.length / 2);
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = bytes.readInt16LE(i * 2);
    return out;
  }
  const out = new Int16Array(bytes.length);
  const decode = encoding === 'mulaw' ? mulawToLinear : encoding === 'alaw' ? alawToLinear : (b: number) => (b - 128) << 8;
  for (let i = 0; i < bytes.length; i++) out[i] = decode(bytes[i] ?? 0);
  return out;
}

/** Encodes s16 samples as `encoding` (the inverse of {@link decodeToLinear}). */
export function encodeFromLinear(samples: Int16Array, encoding: CallAudioEncoding): Buffer {
  if (encoding === 'pcm_16') return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = Buffer.alloc(samples.length);
  const encode = encoding === 'mulaw' ? linearToMulaw : encoding === 'alaw' ? linearToAlaw : (s: number) => (s >> 8) + 128;
  for (let i = 0; i < samples.length; i++) out[i] = encode(samples[i] ?? 0);
  return out;
}
