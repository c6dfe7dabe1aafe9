/**
 * G.711 µ-law and A-law (ITU-T G.711), the telephony codecs of the calls stream (Twilio Media
 * Streams send `audio/x-mulaw` at 8 kHz). One byte per sample; decoded to s16.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Decodes one µ-law byte to a linear s16 sample. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 && magnitude !== 0 ? -magnitude : magnitude;
}

/** Encodes a linear s16 sample as a µ-law byte. */
export function linearToMulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

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
