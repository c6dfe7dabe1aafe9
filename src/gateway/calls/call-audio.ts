import { decodeToLinear, encodeFromLinear, type CallAudioEncoding } from '../../audio/g711.js';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../../audio/pcm.js';
import { StreamingResampler } from '../../audio/resampler.js';

/** Rate call audio is processed at inside Tolk (recognition, synthesis, recording), in Hz. */
export const CALL_RATE_HZ = 16000;

/** An audio format of the calls stream (spec 004: `encoding`, `sample_rate`, `channels`). */
export interface CallAudioFormat {
  encoding: CallAudioEncoding;
  sampleRateHz: number;
  channels: 1 | 2;
}

/** Why a format cannot be used (the stream's `invalid_audio_format` error), or undefined. */
export function callAudioFormatProblem(format: { encoding: unknown; sampleRateHz: unknown; channels: unknown }): string | undefined {
  if (!['pcm_16', 'pcm_8', 'mulaw', 'alaw'].includes(format.encoding as string)) return `Unsupported encoding ${JSON.stringify(format.encoding)}: use pcm_16, pcm_8, mulaw or alaw`;
  if (!SUPPORTED_SAMPLE_RATES_HZ.includes(format.sampleRateHz as number)) return `Unsupported sample_rate ${JSON.stringify(format.sampleRateHz)}: use ${SUPPORTED_SAMPLE_RATES_HZ.join(', ')}`;
  if (format.channels !== 1 && format.channels !== 2) return `Unsupported channels ${JSON.stringify(format.channels)}: use 1 or 2`;
  return undefined;
}

function toBuffer(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

/**
 * Turns a participant's audio into Tolk's (s16le mono at {@link CALL_RATE_HZ}) and back, keeping
 * one resampler per rate so chunk boundaries leave no clicks. Stereo input is mixed down.
 */
export class CallAudioCodec {
  private readonly inbound = new Map<number, StreamingResampler>();
  private outbound: StreamingResampler | undefined;

  /** Decodes one chunk of `format` to s16le mono at {@link CALL_RATE_HZ}. */
  decode(bytes: Buffer, format: CallAudioFormat): Buffer {
    let samples = decodeToLinear(bytes, format.encoding);
    if (format.channels === 2) samples = downmix(samples);
    if (format.sampleRateHz === CALL_RATE_HZ) return toBuffer(samples);
    let resampler = this.inbound.get(format.sampleRateHz);
    if (!resampler) this.inbound.set(format.sampleRateHz, (resampler = new StreamingResampler(format.sampleRateHz, CALL_RATE_HZ)));
    return toBuffer(resampler.process(samples));
  }

  /** Encodes s16le mono at {@link CALL_RATE_HZ} for a listener that takes `format` (mono out). */
  encode(pcm: Buffer, format: Pick<CallAudioFormat, 'encoding' | 'sampleRateHz'>): Buffer {
    let samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1)));
    if (format.sampleRateHz !== CALL_RATE_HZ) {
      if (this.outbound?.outRateHz !== format.sampleRateHz) this.outbound = new StreamingResampler(CALL_RATE_HZ, format.sampleRateHz);
      samples = this.outbound.process(samples);
    }
    return encodeFromLinear(samples, format.encoding);
  }
}

function downmix(interleaved: Int16Array): Int16Array {
  const out = new Int16Array(Math.floor(interleaved.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = ((interleaved[i * 2] ?? 0) + (interleaved[i * 2 + 1] ?? 0)) >> 1;
  return out;
}
