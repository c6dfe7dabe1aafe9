/**
 * Preemptive synthesis, off against on, in one run (docs/stream-protocol.md "Preemptive synthesis").
 *
 * Starts two `tolk serve` processes (bench/tolk-process.ts): one with `TOLK_PREEMPTIVE=off`, one
 * with it on (the default). Each stream speaks three of the five LibriVox recordings of
 * pocketsphinx-testdata with 1 s of silence between them, over a real WebSocket at real-time pace;
 * the same stream goes to both servers one after the other (the order alternates), one stream at a
 * time, `--rounds` times over the five. Reports per mode, measured on the client: speech end →
 * final, → first audio p50/p95, and final → first audio (what preemption removes; the endpoint's
 * silence before the final stays); the utterances (finals with words) and how many more the same audio
 * gave than with preemption off (utterances split in two); the server's CPU per second of audio
 * (its threads and the MT/TTS child processes it reaped: espeak-ng's; Apertium's long-lived
 * pipeline is not counted by either mode); and for the on server its speculations from `/metrics`:
 * started, used, discarded (the fraction of speculative work thrown away) and the engine time of
 * the discarded ones. Ratios are on ÷ off.
 * `--shorter-endpoint-ms N` adds a third server, preemptive with `TOLK_ENDPOINT_SILENCE_MS=N`:
 * what committing sooner would give, and cost in utterances split in two.
 * Usage: node --import tsx bench/preemptive.ts [--rounds 1] [--shorter-endpoint-ms 200]
 * (build dist/ first: bin/tolk.js runs it)
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

const endpointArg = args.includes('--shorter-endpoint-ms') ? args[args.indexOf('--shorter-endpoint-ms') + 1] : undefined;

interface Mode { name: string; env: Record<string, string>; server?: TolkProcess; samples: Sample[]; utterances: number[]; cpuMs: number; audioMs: number }

async function speak(mode: Mode, samples: Int16Array): Promise<void> {
  const server = mode.server;
  if (!server) throw new Error(`${mode.name}: no server`);
  const key = await fetchSessionKey(server.url, server.apiKey, 600);
  const cpuBefore = server.cpuMs();
  const result = await streamAudio({
    url: vtUrl(server.url, key),
    config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: true } },
    samples, sampleRateHz: 16000,
  });
  mode.cpuMs += server.cpuMs() - cpuBefore;
  mode.audioMs += samples.length / 16;
  const error = result.events.find((e) => e.kind === 'error');
  if (error?.kind === 'error') throw new Error(`${mode.name}: ${error.description}`);
  mode.samples.push(...clientLatencies(result.events, result.firstSendAtMs, result.firstSendAtMs));
  mode.utterances.push(result.events.filter((e) => e.kind === 'transcript' && e.final && e.text).length);
}

const newMode = (name: string, env: Record<string, string>): Mode => ({ name, env, samples: [], utterances: [], cpuMs: 0, audioMs: 0 });
const modes: Mode[] = [newMode('off', { TOLK_PREEMPTIVE: 'off' }), newMode('on', { TOLK_PREEMPTIVE: 'on' })];
// Optional: preemption with a shorter endpoint silence, to see what committing sooner costs in split utterances.
if (endpointArg) modes.push(newMode(`on+endpoint ${endpointArg} ms`, { TOLK_PREEMPTIVE: 'on', TOLK_ENDPOINT_SILENCE_MS: endpointArg }));
for (const m of modes) {
  // Not shed when the shared machine runs slower than real time: this measures latency, not capacity.
  m.server = await startTolkProcess({ ...m.env, TOLK_MAX_BACKLOG_MS: '60000' });
  await m.server.ready();
  await m.server.settled();
}
const [off] = modes as [Mode];
const loadBefore = os.loadavg()[0] ?? 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, s] of streams.entries()) {
    const order = (i + round) % 2 === 0 ? modes : [...modes].reverse();
    for (const m of order) await speak(m, s);
  }
}
const speculation = async (m: Mode) => {
  const metric = (name: string): Promise<number> => m.server?.metric(name) ?? Promise.resolve(NaN);
  const started = await metric('tolk_preemptive_started_total');
  const discarded = await metric('tolk_preemptive_discarded_total');
  const discardedEngineS = await metric('tolk_preemptive_discarded_engine_seconds_total');
  return {
    started, used: await metric('tolk_preemptive_used_total'), discarded, discardedFraction: Number((discarded / Math.max(1, started)).toFixed(3)),
    discardedEngineSPerAudioS: Number((discardedEngineS / (m.audioMs / 1000)).toFixed(4)),
  };
};
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));
const summary = async (m: Mode) => {
  const firstAudioMs = { p50: percentile(m.samples.map((s) => s.firstAudio), 50), p95: percentile(m.samples.map((s) => s.firstAudio), 95) };
  const cpuPerAudioS = Number((m.cpuMs / m.audioMs).toFixed(3));
  return {
    mode: m.name, utterances: m.samples.length,
    finalMs: { p50: percentile(m.samples.map((s) => s.final), 50), p95: percentile(m.samples.map((s) => s.final), 95) },
    firstAudioMs,
    finalToFirstAudioMs: { p50: percentile(m.samples.map((s) => s.firstAudio - s.final), 50), p95: percentile(m.samples.map((s) => s.firstAudio - s.final), 95) },
    cpuPerAudioS,
    splitUtterancesVsOff: m.utterances.reduce((n, u, i) => n + Math.max(0, u - (off.utterances[i] ?? u)), 0),
    speculation: m === off ? undefined : await speculation(m),
    ratiosToOff: {
      firstAudioP50: ratio(firstAudioMs.p50, percentile(off.samples.map((s) => s.firstAudio), 50)),
      firstAudioP95: ratio(firstAudioMs.p95, percentile(off.samples.map((s) => s.firstAudio), 95)),
      cpuPerAudioS: ratio(cpuPerAudioS, off.cpuMs / off.audioMs),
    },
  };
};
const results = [];
for (const m of modes) results.push(await summary(m));
const report = {
  machine: { cpus: os.cpus().length, loadAverageBefore: Number(loadBefore.toFixed(2)), loadAverageAfter: Number((os.loadavg()[0] ?? 0).toFixed(2)) },
  rounds: ROUNDS, modes: results,
};
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/preemptive.json', `${JSON.stringify(report, null, 2)}\n`);
for (const r of results) {
  console.log(`${r.mode}: ${r.utterances} utterances, speech end → final p50 ${r.finalMs.p50} / p95 ${r.finalMs.p95} ms, → first audio p50 ${r.firstAudioMs.p50} / p95 ${r.firstAudioMs.p95} ms, final → first audio p50 ${r.finalToFirstAudioMs.p50} / p95 ${r.finalToFirstAudioMs.p95} ms; server CPU ${r.cpuPerAudioS} s per audio s`);
  const x = r.speculation;
  if (x) console.log(`   speculations ${x.started} started, ${x.used} used, ${x.discarded} discarded (${x.discardedFraction}); discarded engine time ${x.discardedEngineSPerAudioS} s per audio s; utterances split in two vs off: ${r.splitUtterancesVsOff}`);
  if (x) console.log(`   ${r.mode}/off: first audio p50 ×${r.ratiosToOff.firstAudioP50}, p95 ×${r.ratiosToOff.firstAudioP95}; CPU per audio s ×${r.ratiosToOff.cpuPerAudioS}`);
}
console.log(`load average ${report.machine.loadAverageBefore} → ${report.machine.loadAverageAfter}`);
await Promise.all(modes.map((m) => m.server?.close()));
