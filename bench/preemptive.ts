/**
 * Preemptive synthesis, off against on, in one run (docs/stream-protocol.md "Preemptive synthesis").
 *
 * Starts two `tolk serve` processes (bench/tolk-process.ts): one with `TOLK_PREEMPTIVE=off`, one
 * with it on (the default). Each stream speaks three of the five LibriVox recordings of
 * pocketsphinx-testdata with 1 s of silence between them, over a real WebSocket at real-time pace;
 * the same stream goes to both servers one after the other (the order alternates), one stream at a
 * time, `--rounds` times over the five. Reports per mode, measured on the client: speech end →
 * final, → first audio p50/p95; the utterances (finals with words) and how many more the same audio
 * gave than with preemption off (utterances split in two); the server's CPU per second of audio
 * (its threads and the MT/TTS child processes it reaped: espeak-ng's; Apertium's long-lived
 * pipeline is not counted by either mode); and for the on server its speculations from `/metrics`:
 * started, used, discarded (the fraction of speculative work thrown away) and the engine time of
 * the discarded ones. Ratios are on ÷ off.
 * Usage: node --import tsx bench/preemptive.ts [--rounds 1]   (build dist/ first: bin/tolk.js runs it)
 * Writes bench/results/preemptive.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import { concatSamples } from '../src/audio/pcm.js';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';
import { clientLatencies, percentile, type Sample } from './client-latency.js';
import { startTolkProcess, type TolkProcess } from './tolk-process.js';

const args = process.argv.slice(2);
const ROUNDS = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 1;

const single = librivoxRecordings().map((r) => loadWav(r.path).samples);
const GAP = new Int16Array(16000);
const streams = single.map((_, i) => concatSamples([0, 1, 2].flatMap((k) => [single[(i + k) % single.length] ?? new Int16Array(0), GAP])));

interface Mode { name: 'off' | 'on'; server: TolkProcess; samples: Sample[]; utterances: number[]; cpuMs: number; audioMs: number }

async function speak(mode: Mode, samples: Int16Array): Promise<void> {
  const key = await fetchSessionKey(mode.server.url, mode.server.apiKey, 600);
  const cpuBefore = mode.server.cpuMs();
  const result = await streamAudio({
    url: vtUrl(mode.server.url, key),
    config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: true } },
    samples, sampleRateHz: 16000,
  });
  mode.cpuMs += mode.server.cpuMs() - cpuBefore;
  mode.audioMs += samples.length / 16;
  const error = result.events.find((e) => e.kind === 'error');
  if (error?.kind === 'error') throw new Error(`${mode.name}: ${error.description}`);
  mode.samples.push(...clientLatencies(result.events, result.firstSendAtMs, result.firstSendAtMs));
  mode.utterances.push(result.events.filter((e) => e.kind === 'transcript' && e.final && e.text).length);
}

const modes: Mode[] = [];
for (const name of ['off', 'on'] as const) {
  // Not shed when the shared machine runs slower than real time: this measures latency, not capacity.
  const server = await startTolkProcess({ TOLK_PREEMPTIVE: name, TOLK_MAX_BACKLOG_MS: '60000' });
  await server.ready();
  await server.settled();
  modes.push({ name, server, samples: [], utterances: [], cpuMs: 0, audioMs: 0 });
}
const [off, on] = modes as [Mode, Mode];
const loadBefore = os.loadavg()[0] ?? 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, s] of streams.entries()) {
    for (const m of (i + round) % 2 === 0 ? [off, on] : [on, off]) await speak(m, s);
  }
}
const metric = (name: string): Promise<number> => on.server.metric(name);
const spec = {
  started: await metric('tolk_preemptive_started_total'), used: await metric('tolk_preemptive_used_total'),
  discarded: await metric('tolk_preemptive_discarded_total'), discardedEngineS: await metric('tolk_preemptive_discarded_engine_seconds_total'),
};
const summary = (m: Mode) => ({
  utterances: m.samples.length,
  finalMs: { p50: percentile(m.samples.map((s) => s.final), 50), p95: percentile(m.samples.map((s) => s.final), 95) },
  firstAudioMs: { p50: percentile(m.samples.map((s) => s.firstAudio), 50), p95: percentile(m.samples.map((s) => s.firstAudio), 95) },
  cpuPerAudioS: Number((m.cpuMs / m.audioMs).toFixed(3)),
});
const report = {
  machine: { cpus: os.cpus().length, loadAverageBefore: Number(loadBefore.toFixed(2)), loadAverageAfter: Number((os.loadavg()[0] ?? 0).toFixed(2)) },
  rounds: ROUNDS, off: summary(off), on: summary(on),
  splitUtterances: on.utterances.reduce((n, u, i) => n + Math.max(0, u - (off.utterances[i] ?? u)), 0),
  speculation: { ...spec, discardedFraction: Number((spec.discarded / Math.max(1, spec.started)).toFixed(3)), discardedEngineSPerAudioS: Number((spec.discardedEngineS / (on.audioMs / 1000)).toFixed(4)) },
  ratios: {} as Record<string, number>,
};
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));
report.ratios = {
  firstAudioP50: ratio(report.on.firstAudioMs.p50, report.off.firstAudioMs.p50), firstAudioP95: ratio(report.on.firstAudioMs.p95, report.off.firstAudioMs.p95),
  cpuPerAudioS: ratio(report.on.cpuPerAudioS, report.off.cpuPerAudioS),
};
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/preemptive.json', `${JSON.stringify(report, null, 2)}\n`);
for (const m of [report.off, report.on]) {
  const name = m === report.off ? 'off' : 'on ';
  console.log(`${name}: ${m.utterances} utterances, speech end → final p50 ${m.finalMs.p50} / p95 ${m.finalMs.p95} ms, → first audio p50 ${m.firstAudioMs.p50} / p95 ${m.firstAudioMs.p95} ms; server CPU ${m.cpuPerAudioS} s per audio s`);
}
console.log(`speculations: ${spec.started} started, ${spec.used} used, ${spec.discarded} discarded (${report.speculation.discardedFraction}); discarded engine time ${report.speculation.discardedEngineSPerAudioS} s per audio s; utterances split in two vs off: ${report.splitUtterances}`);
console.log(`preemptive: on/off first audio p50 ×${report.ratios.firstAudioP50}, p95 ×${report.ratios.firstAudioP95}; CPU per audio s ×${report.ratios.cpuPerAudioS} (load ${report.machine.loadAverageBefore} → ${report.machine.loadAverageAfter})`);
await Promise.all(modes.map((m) => m.server.close()));
