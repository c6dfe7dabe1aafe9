/**
 * VAD benchmark (docs/vad.md): the energy VAD against the Silero VAD, in the same run, on the five
 * LibriVox recordings of pocketsphinx-testdata joined by pauses of known position and length, clean
 * and with white, pink and babble noise at 20, 10 and 5 dB SNR. Both get the same audio in 20 ms
 * blocks with the server's endpointing (300 ms pause). Per condition and VAD:
 *  - endpoint latency: end of a recording's speech → the audio position at which the VAD emitted
 *    its `speech-end` (p50 / p95 over the recordings), and endpoints missed (the utterance ran into
 *    the next recording or never ended);
 *  - false endpoints: a `speech-end` emitted inside a recording's speech (a sentence read without a
 *    break, so a cut there splits it);
 *  - missed speech: the share of the recordings' speech not inside any utterance;
 *  - noise utterances: utterances that overlap no speech at all;
 *  - CPU per audio second (process CPU: includes onnxruntime's threads).
 * Writes bench/results/vad.json and prints the table with silero/energy ratios.
 * Run: `make bench-vad` (or `node --import tsx bench/vad.ts`).
 */
import fs from 'node:fs';
import { EnergyVad } from '../src/providers/vad/energy.js';
import { SileroVad, sharedSileroModel } from '../src/providers/vad/silero.js';
import type { StreamVad, VadEvent } from '../src/providers/vad/types.js';
import { addNoise, RATE, recordings, scene, type NoiseKind, type Scene } from './noisy-librivox.js';

const BLOCK = (20 * RATE) / 1000;
const PAUSES_MS = [700, 1200, 900, 1500, 1000];

interface Emitted { event: VadEvent; emittedMs: number }
interface Result {
  latencyP50: number; latencyP95: number; missedEndpoints: number; falseEndpoints: number;
  missedSpeechPct: number; noiseUtterances: number; cpuMsPerAudioS: number;
}

async function runVad(vad: StreamVad, samples: Int16Array): Promise<{ out: Emitted[]; cpuMs: number }> {
  const out: Emitted[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < samples.length; i += BLOCK) {
    const block = samples.subarray(i, i + BLOCK);
    const emittedMs = ((i + block.length) * 1000) / RATE;
    for (const event of await vad.push(block)) out.push({ event, emittedMs });
  }
  for (const event of await vad.flush()) out.push({ event, emittedMs: (samples.length * 1000) / RATE });
  const cpu = process.cpuUsage(cpu0);
  return { out, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function score(out: Emitted[], sc: Scene, cpuMs: number): Result {
  const utterances: Array<{ startMs: number; endMs: number }> = [];
  let open: number | undefined;
  for (const { event } of out) {
    if (event.type === 'speech-start') open = event.atMs;
    else if (event.type === 'speech-end' && open !== undefined) {
      utterances.push({ startMs: open, endMs: event.atMs });
      open = undefined;
    }
  }
  const ends = out.filter((e) => e.event.type === 'speech-end');
  const latencies: number[] = [];
  let missedEndpoints = 0;
  sc.speech.forEach((s, i) => {
    const nextStart = sc.speech[i + 1]?.startMs ?? Infinity;
    const end = ends.find((e) => e.emittedMs >= s.endMs && e.emittedMs < nextStart);
    if (end) latencies.push(end.emittedMs - s.endMs);
    else missedEndpoints++;
  });
  const falseEndpoints = ends.filter((e) => sc.speech.some((s) => e.emittedMs > s.startMs && e.emittedMs < s.endMs)).length;
  let speechMs = 0;
  let coveredMs = 0;
  for (const s of sc.speech) {
    speechMs += s.endMs - s.startMs;
    for (const u of utterances) coveredMs += Math.max(0, Math.min(s.endMs, u.endMs) - Math.max(s.startMs, u.startMs));
  }
  const noiseUtterances = utterances.filter((u) => !sc.speech.some((s) => u.endMs > s.startMs && u.startMs < s.endMs)).length;
  return {
    latencyP50: percentile(latencies, 50), latencyP95: percentile(latencies, 95), missedEndpoints, falseEndpoints,
    missedSpeechPct: (100 * (speechMs - coveredMs)) / speechMs, noiseUtterances,
    cpuMsPerAudioS: cpuMs / (sc.samples.length / RATE),
  };
}

const recs = recordings();
const clean = scene(recs, PAUSES_MS);
const model = await sharedSileroModel();
const conditions: Array<{ name: string; kind: NoiseKind; snrDb: number }> = [{ name: 'clean', kind: 'white', snrDb: Infinity }];
for (const kind of ['white', 'pink', 'babble'] as const) for (const snrDb of [20, 10, 5]) conditions.push({ name: `${kind} ${snrDb} dB`, kind, snrDb });

const rows: Array<{ condition: string; energy: Result; silero: Result }> = [];
for (const c of conditions) {
  const sc: Scene = { samples: addNoise(clean.samples, clean.speech, c.kind, c.snrDb, recs), speech: clean.speech };
  // Each VAD twice, alternating, keeping the second run: the first warms caches and the JIT.
  let energy: Result | undefined;
  let silero: Result | undefined;
  for (let round = 0; round < 2; round++) {
    const e = await runVad(new EnergyVad({ sampleRateHz: RATE, endpointSilenceMs: 300 }), sc.samples);
    energy = score(e.out, sc, e.cpuMs);
    const s = await runVad(new SileroVad(model, { sampleRateHz: RATE, endpointSilenceMs: 300 }), sc.samples);
    silero = score(s.out, sc, s.cpuMs);
  }
  if (energy && silero) rows.push({ condition: c.name, energy, silero });
}

const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '—');
const cell = (r: Result): string =>
  `${f(r.latencyP50).padStart(4)} ${f(r.latencyP95).padStart(5)} ${String(r.missedEndpoints).padStart(3)} ${String(r.falseEndpoints).padStart(3)} ${f(r.missedSpeechPct, 1).padStart(5)} ${String(r.noiseUtterances).padStart(3)} ${f(r.cpuMsPerAudioS, 2).padStart(6)}`;
const audioS = clean.samples.length / RATE;
console.log(`VAD benchmark: ${recs.length} LibriVox recordings, ${f(audioS, 1)} s per condition, pauses ${PAUSES_MS.join('/')} ms, endpoint 300 ms`);
console.log('columns: endpoint latency p50 p95 (ms) | missed endpoints | false endpoints | missed speech % | noise utterances | CPU ms per audio s');
console.log(`${'condition'.padEnd(14)}| ${'energy'.padEnd(39)}| ${'silero'.padEnd(39)}| silero/energy: p50 latency, CPU`);
for (const r of rows) {
  console.log(`${r.condition.padEnd(14)}| ${cell(r.energy)} | ${cell(r.silero)} | ${f(r.silero.latencyP50 / r.energy.latencyP50, 2)}×, ${f(r.silero.cpuMsPerAudioS / r.energy.cpuMsPerAudioS, 1)}×`);
}
const sum = (pick: (r: Result) => number, vad: 'energy' | 'silero'): number => rows.reduce((a, r) => a + pick(r[vad]), 0);
for (const vad of ['energy', 'silero'] as const) {
  console.log(`${vad.padEnd(7)} totals over ${rows.length} conditions: missed endpoints ${sum((r) => r.missedEndpoints, vad)}, false endpoints ${sum((r) => r.falseEndpoints, vad)}, ` +
    `noise utterances ${sum((r) => r.noiseUtterances, vad)}, mean missed speech ${f(sum((r) => r.missedSpeechPct, vad) / rows.length, 1)}%`);
}
// One model run, split into what happens on the event loop (the call until it returns its promise)
// and the whole run (until the promise resolves: inference on onnxruntime's thread).
const frame = Int16Array.from(clean.samples.subarray(RATE * 2, RATE * 2 + 512));
let state = model.initialState();
let syncMs = 0;
let totalMs = 0;
const RUNS = 2000;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const pending = model.run(frame, RATE, state);
  syncMs += performance.now() - t0;
  state = (await pending).state;
  totalMs += performance.now() - t0;
}
console.log(`silero model run per 32 ms frame: ${f(totalMs / RUNS, 3)} ms until resolved, of which ${f(syncMs / RUNS, 3)} ms on the event loop (${RUNS} runs)`);
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/vad.json', JSON.stringify({ audioSPerCondition: audioS, pausesMs: PAUSES_MS, rows }, null, 2));
await model.release();
