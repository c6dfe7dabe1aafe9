import wavefile from 'wavefile';
import type { PcmChunk } from './pcm.js';

const { WaveFile } = wavefile;

/**
 * Reads a WAV file's bytes into mono s16 samples (first channel if several; any PCM bit depth is
 * converted to 16-bit).
 * @throws {Error} when the bytes are not a WAV file wavefile can read.
 */
export function readWav(bytes: Uint8Array): PcmChunk {
  const wav = new WaveFile(bytes);
  wav.toBitDepth('16');
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const raw = wav.getSamples(false, Int16Array) as unknown;
  const samples = fmt.numChannels > 1 ? ((raw as Int16Array[])[0] ?? new Int16Array(0)) : (raw as Int16Array);
  return { samples: Int16Array.from(samples), sampleRateHz: fmt.sampleRate };
}

/** Encodes mono s16 samples as a WAV file. */
export function writeWav(chunk: PcmChunk): Buffer {
  const wav = new WaveFile();
  wav.fromScratch(1, chunk.sampleRateHz, '16', chunk.samples);
  return Buffer.from(wav.toBuffer());
}

/**
 * The 44-byte header of a 16-bit PCM WAV file (RIFF, `fmt ` chunk, `data` chunk of `dataBytes`),
 * for files written in pieces (recordings) rather than from one buffer.
 */
export function wavHeader(channels: number, sampleRateHz: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRateHz, 24);
  h.writeUInt32LE(sampleRateHz * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
