import { execFileSync } from 'node:child_process';
import { readWav } from '../../audio/wav.js';
import { StreamingResampler } from '../../audio/resampler.js';

/**
 * Real synthesized speech for VAD tests: `text` spoken by espeak-ng (Debian package `espeak-ng`),
 * resampled to `sampleRateHz` (mono s16). espeak-ng leaves a little silence at both ends of its
 * output; {@link trimSilence} removes it so callers place pauses exactly.
 * @throws {Error} when espeak-ng is not installed.
 */
export function espeakSpeech(text: string, sampleRateHz = 16000): Int16Array {
  const wav = execFileSync('espeak-ng', ['-v', 'en-us', '--stdout', text], { maxBuffer: 64 * 1024 * 1024 });
  const { samples, sampleRateHz: rate } = readWav(wav);
  const resampler = new StreamingResampler(rate, sampleRateHz);
  return trimSilence(resampler.process(samples));
}

/** `samples` without the leading and trailing stretch below `threshold` (absolute s16 amplitude). */
export function trimSilence(samples: Int16Array, threshold = 300): Int16Array {
  let start = 0;
  while (start < samples.length && Math.abs(samples[start] ?? 0) < threshold) start++;
  let end = samples.length;
  while (end > start && Math.abs(samples[end - 1] ?? 0) < threshold) end--;
  return samples.slice(start, end);
}
