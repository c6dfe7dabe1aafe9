/**
 * What decoding does to the rest of the process (docs/deploy.md "Threads"): while 10 streams decode
 * LibriVox speech at real-time pace on pocketsphinx, a probe reads a small file (`fs.readFile`),
 * resolves `localhost` (`dns.lookup`, libuv's pool like fs) and samples the event loop's delay
 * (`monitorEventLoopDelay`), every 50 ms — first with the streams decoding alone, then while
 * recognizers are also being loaded and freed (`--loaders` at a time, as when streams arrive or, formerly, when
 * a server loaded a recognizer per stream of its capacity at start-up). Run twice in one invocation, each in a fresh process with
 * libuv's default pool of 4 threads: `TOLK_STT_THREADS=libuv` (before: koffi async calls on libuv's
 * pool) and the default (after: the recognizer's own threads). Prints p50/p99 of each and the
 * after/before ratios; writes bench/results/engine-threads.json.
 * Usage: node --import tsx bench/engine-threads.ts [--streams 10] [--seconds 20] [--loaders 3]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = arg('streams', 10);
const SECONDS = arg('seconds', 20);
const LOADERS = arg('loaders', 3);

/** The measuring process: prints one JSON line of percentiles. */
const CHILD = `
import dns from 'node:dns';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PocketsphinxStt, POCKETSPHINX_MODEL_DIR as m } from './src/providers/stt/pocketsphinx.ts';
import { callSlow, loadLib } from './src/providers/stt/pocketsphinx-lib.ts';
import { librivoxRecordings, loadWav } from './test/helpers.ts';
const STREAMS = ${STREAMS}, SECONDS = ${SECONDS}, LOADERS = Number(process.env.BENCH_LOADERS);
const stt = new PocketsphinxStt({ maxIdleDecoders: STREAMS, spareDecoders: 0 });
await stt.prewarm(STREAMS);
const speech = librivoxRecordings().map((r) => loadWav(r.path).samples);
const streams = await Promise.all(Array.from({ length: STREAMS }, () => stt.open({ language: 'en-US', internal: true })));
for (const s of streams) void (async () => { for await (const t of s) void t; })();
const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const fsMs = [], dnsMs = [];
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const endAt = performance.now() + SECONDS * 1000;
const feeding = streams.map(async (s, i) => {
  const audio = speech[i % speech.length];
  const start = performance.now();
  for (let n = 0, at = 0; performance.now() < endAt; n++, at = (at + 1600) % (audio.length - 1600)) {
    s.push(audio.subarray(at, at + 1600));
    if (n % 50 === 49) await s.flush();
    const wait = start + (n + 1) * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
});
const probing = (async () => {
  while (performance.now() < endAt) {
    let t = performance.now();
    await fs.promises.readFile('package.json');
    fsMs.push(performance.now() - t);
    t = performance.now();
    await new Promise((r) => dns.lookup('localhost', () => r(undefined)));
    dnsMs.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
})();
const l = loadLib();
const argv = ['-hmm', m + '/en-us', '-lm', m + '/en-us.lm.bin', '-dict', m + '/cmudict-en-us.dict'];
const loading = Array.from({ length: LOADERS }, async () => {
  while (performance.now() < endAt) await callSlow('psFree', await callSlow('psInit', l.cmdLnParse(null, l.psArgs(), argv.length, argv, 1)));
});
await Promise.all([...feeding, probing, ...loading]);
loop.disable();
const audioS = stt.stats().audioMs / 1000;
console.log(JSON.stringify({
  fsP50: pct(fsMs, 50), fsP99: pct(fsMs, 99), dnsP50: pct(dnsMs, 50), dnsP99: pct(dnsMs, 99),
  loopP50: loop.percentile(50) / 1e6, loopP99: loop.percentile(99) / 1e6, audioDecodedS: audioS, probes: fsMs.length,
}));
process.exit(0);
`;

type Result = Record<'fsP50' | 'fsP99' | 'dnsP50' | 'dnsP99' | 'loopP50' | 'loopP99' | 'audioDecodedS' | 'probes', number>;

function run(threads: string, loaders: number): Result {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLK_STT_THREADS: threads, BENCH_LOADERS: String(loaders) };
  delete env.UV_THREADPOOL_SIZE; // libuv's default pool of 4, as a deployed server has it
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { env, encoding: 'utf8', timeout: 600_000 });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Result;
}

const load = os.loadavg()[0]?.toFixed(1);
console.log(`${STREAMS} streams decoding for ${SECONDS} s; load average ${load} on ${os.availableParallelism()} cores (a shared machine: compare the ratios)`);
const runs = [0, LOADERS].map((loaders) => ({ loaders, before: run('libuv', loaders), after: run('', loaders) }));
const rows: Array<[string, keyof Result]> = [
  ['fs.readFile p50 ms', 'fsP50'], ['fs.readFile p99 ms', 'fsP99'], ['dns.lookup p50 ms', 'dnsP50'], ['dns.lookup p99 ms', 'dnsP99'],
  ['event-loop delay p50 ms', 'loopP50'], ['event-loop delay p99 ms', 'loopP99'], ['audio decoded s', 'audioDecodedS'],
];
for (const { loaders, before, after } of runs) {
  console.log(`\n${STREAMS} streams decoding${loaders ? `, ${loaders} recognizers loading at a time` : ''}:`);
  console.log('| measure | libuv pool (before) | own threads (after) | after/before |\n|---|---|---|---|');
  for (const [label, key] of rows) {
    console.log(`| ${label} | ${before[key].toFixed(1)} | ${after[key].toFixed(1)} | ×${(after[key] / before[key]).toFixed(2)} |`);
  }
}
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/engine-threads.json', JSON.stringify({ streams: STREAMS, seconds: SECONDS, loadAverage: load, runs }, null, 2));
