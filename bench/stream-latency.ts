/**
 * Stream latency and capacity benchmark (docs/deploy.md "Capacity").
 *
 * Starts `tolk serve` as its own process (as `make start` does: embedded database, offline engines,
 * the real-time budget as deployed: cores × target utilisation ÷ the measured cost of a stream, and
 * `TOLK_STT_IDLE_DECODERS` recognizers kept loaded), streams the five LibriVox recordings of
 * pocketsphinx-testdata to it over real WebSockets at real-time pace from this process, and reports,
 * measured on the client:
 *  - the single-stream baseline: p50/p95 from end of speech to final transcript, translation and
 *    first synthesized audio byte; endpoint → first audio byte (server marks);
 *  - the curve at 1, 4, 8, 12 and 16 simultaneous streams, started together and staggered over
 *    1 s: p50/p95 end of speech → first audio of the admitted streams, streams admitted, refused
 *    (429 / 4429 at the start) and shed (429 later), utterances lost (a final without its speech),
 *    and each p95's ratio to the single-stream p95 of the same run;
 *  - the machine's load average before each round (the machine may be shared: compare ratios);
 *  - the server process's CPU per second of admitted streams' audio in each round (its own threads
 *    plus its MT/TTS child processes), read from /proc, and its budget from its /metrics;
 *  - the server's resident memory per stream.
 * Usage: node --import tsx bench/stream-latency.ts [--rounds 1,4,8] [--quick]
 * Writes bench/results/stream-latency.json and prints a table.
 */
import fs from 'node:fs';
import os from 'node:os';
import { concatSamples } from '../src/audio/pcm.js';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';
import { clientLatencies, percentile, type Sample } from './client-latency.js';
import { startTolkProcess } from './tolk-process.js';


// The capacity settings as deployed (TOLK_CPU_CORES, TOLK_TARGET_UTILISATION, TOLK_MAX_BACKLOG_MS
// and TOLK_STT_IDLE_DECODERS from the environment); recognizers are loaded as streams arrive.
const server = await startTolkProcess();
const apiKey = server.apiKey;
await server.ready();
await server.settled();
const single = librivoxRecordings().map((r) => ({ ...r, ...loadWav(r.path) }));
const GAP = new Int16Array(16000); // 1 s of silence between utterances
/** Each stream speaks three recordings with pauses between them: three utterances per stream. */
const recordings = single.map((_, i) => {
  const parts = [0, 1, 2].map((k) => single[(i + k) % single.length]);
  const samples = concatSamples(parts.flatMap((p) => (p ? [p.samples, GAP] : [])));
  return { sampleRateHz: 16000, samples };
});

/** Descriptions of the refusals and sheds of the run (printed once each). */
const refusals = new Set<string>();

interface RoundResult { samples: Sample[]; admitted: number; refused: number; shed: number; lost: number; rssPerStreamMb: number; serverCpuPerAudioS: number; refusalMs: number[] }

/** Runs `count` streams at once (`stagger`: starts spread over 1 s), each speaking three recordings. */
async function runStreams(count: number, first = 0, stagger = true): Promise<RoundResult> {
  // Memory per stream counts its recognizer: measured from before the pool is filled for this round.
  const rssBefore = server.rssBytes();
  let rssPeak = rssBefore;
  const timer = setInterval(() => (rssPeak = Math.max(rssPeak, server.rssBytes())), 200);
  const cpuBefore = server.cpuMs();
  const keys = await Promise.all(Array.from({ length: count }, () => fetchSessionKey(server.url, apiKey, 600)));
  const results = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const r = recordings[(first + i) % recordings.length];
    if (!r) throw new Error('no recording');
    if (stagger) await new Promise((res) => setTimeout(res, (i * 173) % 1000));
    const connectAtMs = Date.now();
    const result = await streamAudio({
      url: vtUrl(server.url, keys[i] ?? ''),
      config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: true } },
      samples: r.samples, sampleRateHz: r.sampleRateHz,
    });
    const error = result.events.find((e) => e.kind === 'error');
    const shed = error?.kind === 'error' && /behind this stream's audio/.test(error.description);
    const outcome = error?.kind === 'error' && error.code === 429 ? (shed ? 'shed' : 'refused') : 'admitted';
    // The server's clock for `start` begins when the first frame arrives, i.e. when it was sent.
    const samples = clientLatencies(result.events, result.firstSendAtMs, result.firstSendAtMs);
    const finals = result.events.filter((e) => e.kind === 'transcript' && e.final && e.text).length;
    if (outcome !== 'admitted' && error?.kind === 'error') refusals.add(error.description);
    // A refusal is timed from the moment the client began connecting to the error event.
    const refusalMs = outcome === 'refused' && error ? error.atMs - connectAtMs : undefined;
    return { outcome, samples, lost: outcome === 'admitted' ? finals - samples.length : 0, audioMs: (r.samples.length * 1000) / r.sampleRateHz, refusalMs };
  }));
  clearInterval(timer);
  const cpuMs = server.cpuMs() - cpuBefore;
  const admitted = results.filter((r) => r.outcome === 'admitted');
  return {
    samples: admitted.flatMap((r) => r.samples), admitted: admitted.length,
    refused: results.filter((r) => r.outcome === 'refused').length, shed: results.filter((r) => r.outcome === 'shed').length,
    lost: admitted.reduce((n, r) => n + r.lost, 0), rssPerStreamMb: (rssPeak - rssBefore) / Math.max(1, admitted.length) / 1e6,
    serverCpuPerAudioS: cpuMs / Math.max(1, admitted.reduce((n, r) => n + r.audioMs, 0)),
    refusalMs: results.flatMap((r) => (r.refusalMs === undefined ? [] : [r.refusalMs])),
  };
}

const args = process.argv.slice(2);
const roundsArg = args[args.indexOf('--rounds') + 1];
const COUNTS = args.includes('--rounds') && roundsArg ? roundsArg.split(',').map(Number) : [1, 4, 8, 12, 16];

interface Round { streams: number; start: 'together' | 'staggered'; loadAverage: number; p50FirstAudioMs: number; p95FirstAudioMs: number; p95Ratio: number; utterances: number; admitted: number; refused: number; shed: number; lost: number; serverCpuPerAudioS: number; maxRefusalMs: number | null }
const rounds: Round[] = [];

/** The server's real-time budget, from its /metrics. */
async function budget(): Promise<{ budgetCpu: number; costPerAudioS: number; capacity: number; refused: number; shed: number }> {
  const [budgetCpu, costPerAudioS, capacity, refused, shed] = await Promise.all([
    'tolk_capacity_budget_cpu_seconds', 'tolk_capacity_cost_cpu_seconds_per_audio_second', 'tolk_capacity_streams',
    'tolk_capacity_refused_total', 'tolk_capacity_shed_total',
  ].map((m) => server.metric(m)));
  return { budgetCpu: budgetCpu ?? NaN, costPerAudioS: costPerAudioS ?? NaN, capacity: capacity ?? NaN, refused: refused ?? NaN, shed: shed ?? NaN };
}
const atStart = await budget();
console.log(`   server ready: budget ${atStart.budgetCpu} ÷ calibrated cost ${atStart.costPerAudioS.toFixed(3)} = ${atStart.capacity} streams; ${(server.rssBytes() / 1e6).toFixed(0)} MB resident`);
// Baseline: one stream at a time, each of the five recordings.
const baselineSamples: Sample[] = [];
for (let i = 0; i < recordings.length; i++) baselineSamples.push(...(await runStreams(1, i, false)).samples);
const baseP95 = percentile(baselineSamples.map((s) => s.firstAudio), 95);

let memoryPerStreamMb = 0;
for (const n of COUNTS) {
  for (const start of ['together', 'staggered'] as const) {
    if (n === 1 && start === 'staggered') continue;
    const loadAverage = os.loadavg()[0] ?? 0;
    const r = await runStreams(n, 0, start === 'staggered');
    const p95 = percentile(r.samples.map((s) => s.firstAudio), 95);
    rounds.push({
      streams: n, start, loadAverage: Number(loadAverage.toFixed(2)),
      p50FirstAudioMs: percentile(r.samples.map((s) => s.firstAudio), 50), p95FirstAudioMs: p95, p95Ratio: Number((p95 / baseP95).toFixed(2)),
      utterances: r.samples.length, admitted: r.admitted, refused: r.refused, shed: r.shed, lost: r.lost,
      serverCpuPerAudioS: Number(r.serverCpuPerAudioS.toFixed(3)),
      maxRefusalMs: r.refusalMs.length > 0 ? Math.max(...r.refusalMs) : null,
    });
    if (r.admitted > 0) memoryPerStreamMb = r.rssPerStreamMb;
    const x = rounds.at(-1);
    const c = await budget();
    if (x) console.log(`   budget ${c.budgetCpu} ÷ cost ${c.costPerAudioS.toFixed(3)} = ${c.capacity} streams; server CPU ${x.serverCpuPerAudioS} s per audio s; ${[...refusals].join(' | ')}`);
    refusals.clear();
    if (x) console.log(`${String(n).padStart(2)} ${start.padEnd(9)} load ${x.loadAverage.toFixed(1).padStart(5)}  p50 ${String(x.p50FirstAudioMs).padStart(5)} / p95 ${String(x.p95FirstAudioMs).padStart(5)} ms  ×${x.p95Ratio}  admitted ${x.admitted} refused ${x.refused}${x.maxRefusalMs === null ? '' : ` (in ≤ ${x.maxRefusalMs} ms)`} shed ${x.shed} lost ${x.lost}`);
  }
}

const capacity = await budget();
const report = {
  machine: { cpus: os.cpus().length },
  capacity: { atStart, atEnd: capacity },
  baseline: {
    utterances: baselineSamples.length,
    speechEndToFinalMs: { p50: percentile(baselineSamples.map((s) => s.final), 50), p95: percentile(baselineSamples.map((s) => s.final), 95) },
    speechEndToTranslationMs: { p50: percentile(baselineSamples.map((s) => s.translation), 50), p95: percentile(baselineSamples.map((s) => s.translation), 95) },
    speechEndToFirstAudioMs: { p50: percentile(baselineSamples.map((s) => s.firstAudio), 50), p95: baseP95 },
  },
  concurrency: rounds,
  memoryPerStreamMb: Number(memoryPerStreamMb.toFixed(1)),
};
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/stream-latency.json', `${JSON.stringify(report, null, 2)}\n`);
const b = report.baseline;
console.log(
  `stream-latency: single stream speech end → final p50 ${b.speechEndToFinalMs.p50} / p95 ${b.speechEndToFinalMs.p95} ms, → translation ${b.speechEndToTranslationMs.p50} / ${b.speechEndToTranslationMs.p95} ms, → first audio ${b.speechEndToFirstAudioMs.p50} / ${b.speechEndToFirstAudioMs.p95} ms; budget ${capacity.budgetCpu} CPU s/s ÷ ${capacity.costPerAudioS.toFixed(3)} per stream = ${capacity.capacity} streams; ${report.memoryPerStreamMb} MB per stream`,
);
await server.close();
