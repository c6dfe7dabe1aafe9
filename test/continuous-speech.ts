import { concatSamples } from '../src/audio/pcm.js';
import { trimSilence } from '../src/providers/testing/espeak-speech.js';
import { EnergyVad } from '../src/providers/vad/energy.js';
import { librivoxRecordings, loadWav } from './helpers.js';

/** Silence left between two stretches of speech, in ms: well under any endpoint or pause threshold. */
const JOIN_GAP_MS = 40;
const RATE_HZ = 16000;

/**
 * The stretches of speech the energy VAD (src/providers/vad/energy.ts) finds in `samples` (16 kHz),
 * with an endpoint after 60 ms of silence so every pause ends one, each trimmed of its quiet ends.
 */
function speechStretches(samples: Int16Array): Int16Array[] {
  const vad = new EnergyVad({ sampleRateHz: RATE_HZ, endpointSilenceMs: 60, preRollMs: 60 });
  const stretches: Int16Array[] = [];
  let current: Int16Array[] = [];
  for (const e of [...vad.push(samples), ...vad.flush()]) {
    if (e.type === 'speech-start') current = [e.preRoll];
    else if (e.type === 'speech') current.push(e.samples);
    else if (e.type === 'speech-end') stretches.push(trimSilence(concatSamples(current), 300));
  }
  return stretches.filter((s) => s.length > 0);
}

/**
 * At least `minDurationMs` of continuous speech (16 kHz mono): the five LibriVox recordings of
 * pocketsphinx-testdata in order, whole, repeated as needed, with every pause the energy VAD finds
 * cut to {@link JOIN_GAP_MS} ms, so no endpoint (300 ms) and no VAD pause (120 ms) fires inside
 * it; `reference` is what is said (the recordings' transcriptions, in the same order).
 */
export function continuousLibrivoxWithText(minDurationMs: number): { samples: Int16Array; reference: string } {
  const recordings = librivoxRecordings().map((r) => ({ stretches: speechStretches(loadWav(r.path).samples), reference: r.reference }));
  const gap = new Int16Array((RATE_HZ * JOIN_GAP_MS) / 1000);
  const parts: Int16Array[] = [];
  const said: string[] = [];
  let samples = 0;
  for (let i = 0; samples < (minDurationMs * RATE_HZ) / 1000; i++) {
    const next = recordings[i % recordings.length];
    if (!next) break;
    for (const stretch of next.stretches) {
      parts.push(stretch, gap);
      samples += stretch.length + gap.length;
    }
    said.push(next.reference);
  }
  return { samples: concatSamples(parts), reference: said.join(' ') };
}

/** The samples of {@link continuousLibrivoxWithText}. */
export function continuousLibrivox(minDurationMs: number): Int16Array {
  return continuousLibrivoxWithText(minDurationMs).samples;
}
