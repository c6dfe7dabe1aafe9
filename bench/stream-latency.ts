/**
 * Stream latency and capacity benchmark (issue: streaming core, DESIGN §8).
 *
 * Streams the five LibriVox recordings of pocketsphinx-testdata through a real server over real
 * WebSockets at real-time pace and reports, measured on the client:
 *  - p50/p95 from end of speech to final transcript, translation and first synthesized audio byte;
 *  - from the endpoint to the first audio byte (server marks);
 *  - concurrent real-time streams held before the p95 to first audio doubles against the
 *    single-stream baseline measured in the same run;
 *  - resident memory per stream.
 * Writes bench/results/stream-latency.json and prints a one-line summary.
 */
import fs from 'node:fs';
import { concatSamples } from '../src/audio/pcm.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent } from '../src/client/vt-client.js';
import type { UtteranceLatency } from '../src/pipeline/latency.js';
import { loadConfig } from '../src/config.js';
import { closeEngines, createOfflineEngines } from '../src/providers/index.js';
import { startServer } from '../src/server.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';

process.env.UV_THREADPOOL_SIZE ??= '16';

interface Sample { final: number; translation: number; firstAudio: number }

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Client-side latencies of each utterance: speech end is start + duration on the stream's audio clock. */
function clientLatencies(events: ReceivedEvent[], firstSendAtMs: number, streamStartWallMs: number): Sample[] {
  const out: Sample[] = [];
  for (const f of events) {
    if (f.kind !== 'transcript' || !f.final || !f.text) continue;
    const speechEndAudioMs = Date.parse(f.start) - streamStartWallMs + f.duration;
    const speechEndWall = firstSendAtMs + speechEndAudioMs;
    const t = events.find((e) => e.kind === 'translate' && e.utteranceId === f.utteranceId);
    const a = t ? events.find((e) => e.kind === 'audio' && e.atMs >= t.atMs) : undefined;
    if (!t || !a) continue;
    out.push({ final: f.atMs - speechEndWall, translation: t.atMs - speechEndWall, firstAudio: a.atMs - speechEndWall });
  }
  return out;
}

const MAX_STREAMS = 24;
// Sized as an operator would size a server for this load: a recognizer loaded per expected stream.
const engines = await createOfflineEngines({ idleDecoders: MAX_STREAMS });
const stt = engines.stt;
const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', maxStreams: 200 }), { engines });
const apiKey = server.firstOwnerKey ?? '';
const serverMarks: UtteranceLatency[] = [];
server.ctx.onUtterance = (e) => serverMarks.push(e.latency);
const single = librivoxRecordings().map((r) => ({ ...r, ...loadWav(r.path) }));
const GAP = new Int16Array(16000); // 1 s of silence between utterances
/** Each stream speaks three recordings with pauses between them: three utterances per stream. */
const recordings = single.map((_, i) => {
  const parts = [0, 1, 2].map((k) => single[(i + k) % single.length]);
  const samples = concatSamples(parts.flatMap((p) => (p ? [p.samples, GAP] : [])));
  return { sampleRateHz: 16000, samples };
});

async function runStreams(count: number, first = 0): Promise<{ samples: Sample[]; rssPerStreamMb: number }> {
  // Memory per stream counts its recognizer: measured from before the pool is filled for this round.
  const rssBefore = process.memoryUsage().rss;
  await stt.prewarm(count);
  let rssPeak = rssBefore;
  const timer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 200);
  const results = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const r = recordings[(first + i) % recordings.length];
    if (!r) throw new Error('no recording');
    const key = await fetchSessionKey(server.url, apiKey, 600);
    // Stagger starts so streams do not all end their utterances at the same instant.
    await new Promise((res) => setTimeout(res, (i * 173) % 1000));
    const result = await streamAudio({
      url: vtUrl(server.url, key),
      config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: true } },
      samples: r.samples, sampleRateHz: r.sampleRateHz,
    });
    // The server's clock for `start` begins when the first frame arrives, i.e. when it was sent.
    return clientLatencies(result.events, result.firstSendAtMs, result.firstSendAtMs);
  }));
  clearInterval(timer);
  return { samples: results.flat(), rssPerStreamMb: (rssPeak - rssBefore) / count / 1e6 };
}

const rounds: Array<{ streams: number; p50FirstAudioMs: number; p95FirstAudioMs: number; utterances: number }> = [];
serverMarks.length = 0;
// Baseline: one stream at a time, each of the five recordings.
const baselineSamples: Sample[] = [];
for (let i = 0; i < recordings.length; i++) baselineSamples.push(...(await runStreams(1, i)).samples);
const endpointToAudio = serverMarks.filter((m) => m.firstAudioByteMs !== null).map((m) => (m.firstAudioByteMs ?? 0) - m.endpointMs);
const baseP95 = percentile(baselineSamples.map((s) => s.firstAudio), 95);
rounds.push({ streams: 1, p50FirstAudioMs: percentile(baselineSamples.map((s) => s.firstAudio), 50), p95FirstAudioMs: baseP95, utterances: baselineSamples.length });

let held = 1;
let memoryPerStreamMb = 0;
for (const n of [4, 8, 12, 16, 20, MAX_STREAMS]) {
  const r = await runStreams(n);
  const p95 = percentile(r.samples.map((s) => s.firstAudio), 95);
  rounds.push({ streams: n, p50FirstAudioMs: percentile(r.samples.map((s) => s.firstAudio), 50), p95FirstAudioMs: p95, utterances: r.samples.length });
  memoryPerStreamMb = r.rssPerStreamMb;
  if (!(p95 <= 2 * baseP95)) break;
  held = n;
}

const report = {
  machine: { cpus: (await import('node:os')).cpus().length },
  baseline: {
    utterances: baselineSamples.length,
    speechEndToFinalMs: { p50: percentile(baselineSamples.map((s) => s.final), 50), p95: percentile(baselineSamples.map((s) => s.final), 95) },
    speechEndToTranslationMs: { p50: percentile(baselineSamples.map((s) => s.translation), 50), p95: percentile(baselineSamples.map((s) => s.translation), 95) },
    speechEndToFirstAudioMs: { p50: percentile(baselineSamples.map((s) => s.firstAudio), 50), p95: baseP95 },
    endpointToFirstAudioMs: { p50: percentile(endpointToAudio, 50), p95: percentile(endpointToAudio, 95) },
  },
  concurrency: rounds,
  concurrentRealtimeStreamsHeld: held,
  memoryPerStreamMb: Number(memoryPerStreamMb.toFixed(1)),
};
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/stream-latency.json', `${JSON.stringify(report, null, 2)}\n`);
const b = report.baseline;
console.log(
  `stream-latency: speech end → final p50 ${b.speechEndToFinalMs.p50} / p95 ${b.speechEndToFinalMs.p95} ms, → translation ${b.speechEndToTranslationMs.p50} / ${b.speechEndToTranslationMs.p95} ms, → first audio ${b.speechEndToFirstAudioMs.p50} / ${b.speechEndToFirstAudioMs.p95} ms; endpoint → first audio p95 ${b.endpointToFirstAudioMs.p95} ms; ${held} concurrent real-time streams before p95 doubles (×${(rounds.at(-1)?.p95FirstAudioMs ?? 0) / baseP95 > 0 ? ((rounds.at(-1)?.p95FirstAudioMs ?? 0) / baseP95).toFixed(2) : '?'} at ${rounds.at(-1)?.streams}); ${report.memoryPerStreamMb} MB per stream`,
);
await server.close();
await closeEngines(engines);
