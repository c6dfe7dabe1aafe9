/**
 * Background voice cancellation benchmark (spec 002 `features.background_voice_cancellation`,
 * docs/vad.md): word error rate of the pocketsphinx finals of the five LibriVox recordings (joined by
 * pauses, bench/noisy-librivox.ts), clean and with white, pink and babble noise, through the real
 * pipeline in recognize mode with the suppressor off and on, for both VADs, all in one run. The
 * clean, unsuppressed WER of each VAD is the baseline the noisy rows are read against.
 * Writes bench/results/noise-suppression.json and prints the table.
 * Run: `make bench-vad` (or `node --import tsx bench/noise-suppression.ts`).
 */
import fs from 'node:fs';
import { TranslationPipeline, type PipelineEvent } from '../src/pipeline/translation-pipeline.js';
import { closeEngines, createOfflineEngines } from '../src/providers/index.js';
import { stopNoiseSuppression } from '../src/providers/vad/noise-suppression.js';
import type { VadName } from '../src/providers/vad/types.js';
import { wordErrors } from '../test/helpers.js';
import { addNoise, RATE, recordings, scene, type NoiseKind } from './noisy-librivox.js';

const recs = recordings();
const clean = scene(recs, [1000]);
const reference = recs.map((r) => r.reference).join(' ');
const engines = await createOfflineEngines({ idleDecoders: 2 });

/** The finals of one stream of `samples` through the pipeline, joined. */
async function transcribe(samples: Int16Array, vad: VadName, backgroundVoiceCancellation: boolean): Promise<{ text: string; wallMs: number }> {
  const finals: string[] = [];
  const pipeline = new TranslationPipeline(engines, {
    sourceLanguage: 'en-US', targetLanguage: 'en-US', voice: 'female', sampleRateHz: RATE, vocabulary: [], dictionary: [],
    interim: false, final: true, translate: false, endpointSilenceMs: 300, maxUtteranceMs: 10_000, mode: 'recognize',
    vad, backgroundVoiceCancellation,
  }, (e: PipelineEvent) => {
    if (e.type === 'transcript' && e.final) finals.push(e.text);
    if (e.type === 'error') throw e.cause;
  });
  const t0 = performance.now();
  await pipeline.start();
  const block = (20 * RATE) / 1000;
  for (let i = 0; i < samples.length; i += block) {
    pipeline.push(samples.subarray(i, i + block));
    if (i % (block * 50) === 0) await new Promise((r) => setImmediate(r));
  }
  await pipeline.close(300_000);
  return { text: finals.join(' '), wallMs: performance.now() - t0 };
}

const conditions: Array<{ name: string; kind: NoiseKind; snrDb: number }> = [
  { name: 'clean', kind: 'white', snrDb: Infinity },
  ...(['white', 'pink', 'babble'] as const).flatMap((kind) => [20, 10, 5].map((snrDb) => ({ name: `${kind} ${snrDb} dB`, kind, snrDb }))),
];
const vads: VadName[] = ['energy', 'silero'];
const rows: Array<{ condition: string; vad: VadName; werOff: number; werOn: number; textOff: string; textOn: string }> = [];
const wer = (text: string): number => {
  const { errors, words } = wordErrors(reference, text);
  return (100 * errors) / words;
};
for (const c of conditions) {
  const samples = addNoise(clean.samples, clean.speech, c.kind, c.snrDb, recs);
  for (const vad of vads) {
    const off = await transcribe(samples, vad, false);
    const on = await transcribe(samples, vad, true);
    rows.push({ condition: c.name, vad, werOff: wer(off.text), werOn: wer(on.text), textOff: off.text, textOn: on.text });
    console.log(`${c.name.padEnd(13)} ${vad.padEnd(7)} WER off ${wer(off.text).toFixed(1).padStart(5)}%  on ${wer(on.text).toFixed(1).padStart(5)}%`);
  }
}

console.log(`\nWER of pocketsphinx finals, ${recs.length} LibriVox recordings (${reference.split(' ').length} words), background_voice_cancellation off → on`);
for (const vad of vads) {
  const base = rows.find((r) => r.vad === vad && r.condition === 'clean');
  console.log(`${vad}: clean baseline ${base?.werOff.toFixed(1)}% (suppressed: ${base?.werOn.toFixed(1)}%)`);
  for (const r of rows.filter((x) => x.vad === vad && x.condition !== 'clean')) {
    console.log(`  ${r.condition.padEnd(13)} ${r.werOff.toFixed(1).padStart(5)}% → ${r.werOn.toFixed(1).padStart(5)}%  (on/off ${(r.werOn / r.werOff).toFixed(2)}×, on/clean ${(r.werOn / (base?.werOff ?? NaN)).toFixed(2)}×)`);
  }
}
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/noise-suppression.json', JSON.stringify({ reference, rows }, null, 2));
await stopNoiseSuppression();
await closeEngines(engines);
