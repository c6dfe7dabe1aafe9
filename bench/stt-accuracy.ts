/**
 * Accuracy and speed of every configured STT engine (docs/engines.md), side by side in one run: on
 * the LibriVox recordings of Debian's pocketsphinx-testdata, each engine that recognizes English
 * gets each recording as one utterance (pushed in 20 ms frames as fast as it takes them, then
 * `flush`). Prints per engine the word error rate against the reference transcripts and the
 * real-time factor (wall time to the final / audio duration), next to the `pocketsphinx_continuous`
 * CLI measured in the same run, with each engine's ratio to that baseline.
 * The engines come from `TOLK_ENGINES` / `TOLK_ENGINES_FILE`, as for `tolk serve`; with neither set
 * only the offline recognizer (pocketsphinx) is measured.
 * Usage: node --import tsx bench/stt-accuracy.ts   (or `make bench-stt`)
 */
import { performance } from 'node:perf_hooks';
import { resample } from '../src/audio/resampler.js';
import { closeEngines, createEngines } from '../src/providers/index.js';
import { readEnginesConfig } from '../src/providers/engine-config.js';
import type { SttProvider } from '../src/providers/stt/types.js';
import { librivoxRecordings, loadWav, pocketsphinxContinuous, wordErrors } from '../test/helpers.js';

/** One engine's totals over the recordings. */
interface Score {
  errors: number;
  words: number;
  wallMs: number;
  audioMs: number;
}

const FRAME_MS = 20;

/** Recognizes one recording as one utterance; resolves with the final's text and the wall time to it, in ms. */
async function recognize(stt: SttProvider, samples: Int16Array, sampleRateHz: number): Promise<{ text: string; wallMs: number }> {
  const rate = stt.capabilities.sampleRateHz;
  const audio = resample(samples, sampleRateHz, rate);
  const t0 = performance.now();
  const stream = await stt.open({ language: 'en-US' });
  const draining = (async () => {
    for await (const _ of stream) void _;
  })();
  const frame = (rate * FRAME_MS) / 1000;
  for (let i = 0; i < audio.length; i += frame) {
    stream.push(audio.subarray(i, i + frame));
    // Engines that decode as audio arrives are given time to keep up, as in a live stream.
    if (stream.pendingMs > 2000) await new Promise((r) => setImmediate(r));
  }
  const final = await stream.flush();
  const wallMs = performance.now() - t0;
  await stream.close();
  await draining;
  return { text: final.text, wallMs };
}

function line(name: string, s: Score, base: Score): string {
  const wer = s.errors / Math.max(1, s.words);
  const baseWer = base.errors / Math.max(1, base.words);
  const rtf = s.wallMs / s.audioMs;
  const baseRtf = base.wallMs / base.audioMs;
  return `${name.padEnd(28)} WER ${(wer * 100).toFixed(1).padStart(5)}% (×${(wer / Math.max(baseWer, 1e-9)).toFixed(2)})   RTF ${rtf.toFixed(3)} (×${(rtf / baseRtf).toFixed(2)})`;
}

const recordings = librivoxRecordings().map((r) => ({ ...r, ...loadWav(r.path) }));
const engines = await createEngines(readEnginesConfig({ json: process.env.TOLK_ENGINES, file: process.env.TOLK_ENGINES_FILE }), { prewarm: false });
try {
  const candidates = engines.stt.order('en');
  if (candidates.length === 0) console.log('no configured STT engine recognizes English: only the CLI baseline is measured');
  const baseline: Score = { errors: 0, words: 0, wallMs: 0, audioMs: 0 };
  const scores = new Map<string, Score>(candidates.map((e) => [e.id, { errors: 0, words: 0, wallMs: 0, audioMs: 0 }]));
  for (const r of recordings) {
    const audioMs = (r.samples.length * 1000) / r.sampleRateHz;
    const t0 = performance.now();
    const cli = pocketsphinxContinuous(r.path);
    const cliErrors = wordErrors(r.reference, cli);
    Object.assign(baseline, {
      errors: baseline.errors + cliErrors.errors, words: baseline.words + cliErrors.words,
      wallMs: baseline.wallMs + performance.now() - t0, audioMs: baseline.audioMs + audioMs,
    });
    const row = [`CLI ${cliErrors.errors}/${cliErrors.words}`];
    for (const engine of candidates) {
      const score = scores.get(engine.id);
      if (!score) continue;
      const { text, wallMs } = await recognize(engine.provider, r.samples, r.sampleRateHz);
      const e = wordErrors(r.reference, text);
      Object.assign(score, { errors: score.errors + e.errors, words: score.words + e.words, wallMs: score.wallMs + wallMs, audioMs: score.audioMs + audioMs });
      row.push(`${engine.id} ${e.errors}/${e.words}`);
    }
    console.log(`${r.id} (${(audioMs / 1000).toFixed(1)} s): word errors ${row.join(', ')}`);
  }
  console.log(`\n${recordings.length} recordings, ${(baseline.audioMs / 1000).toFixed(1)} s of audio; ratios are against the CLI of this run`);
  console.log(line('pocketsphinx_continuous CLI', baseline, baseline));
  for (const engine of candidates) {
    const score = scores.get(engine.id);
    if (score) console.log(line(`${engine.id} (${engine.name})`, score, baseline));
  }
} finally {
  await closeEngines(engines);
}
