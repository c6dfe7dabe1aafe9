/**
 * How `tolk serve` hosts its engines (docs/deploy.md "Readiness", "Memory"), in one run:
 *  - time to ready: from spawning `tolk serve` until `/api/health/ready` answers 200, on the machine
 *    as it is ("quiet") and with two CPU burners running ("busy"), and the ratio;
 *  - memory at rest once ready (RSS and PSS from /proc/PID/smaps_rollup, after the CPU settled);
 *  - MB per stream: N streams (the process's capacity, at most 10) of a LibriVox recording started
 *    together, so N recognizers get loaded; RSS/PSS right after they end (what the former start-up
 *    held at rest: a recognizer per stream of capacity) and the slope per recognizer;
 *  - the shrink: RSS/PSS once the idle recognizers beyond the reserve were freed (30–40 s) and
 *    resident memory stopped falling.
 * The machine may be shared: each number is printed with the load average before it.
 * Usage: node --import tsx bench/engine-hosting.ts (needs `npx tsc -p tsconfig.build.json`)
 * Writes bench/results/engine-hosting.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';
import { startTolkProcess, type TolkProcess } from './tolk-process.js';

const load = (): string => (os.loadavg()[0] ?? 0).toFixed(1);
const mb = (m: { rssMb: number; pssMb: number }): string => `RSS ${m.rssMb.toFixed(0)} MB, PSS ${m.pssMb.toFixed(0)} MB`;
const until = async (check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < end) await new Promise((r) => setTimeout(r, 1000));
};

async function timeToReady(busy: boolean): Promise<{ readyMs: number; server: TolkProcess; loadAverage: string }> {
  const burners = busy ? [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })) : [];
  const loadAverage = load();
  try {
    const server = await startTolkProcess();
    return { readyMs: await server.ready(), server, loadAverage };
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
}

// A server that cannot start on a busy machine (the baseline build: a plugin timeout) is reported as such.
const busy = await timeToReady(true).catch((err: unknown) => ({ failed: (err as Error).message.slice(0, 200), readyMs: NaN, loadAverage: load() }));
if ('server' in busy) await busy.server.close();
const quiet = await timeToReady(false);
const server = quiet.server;
const busyText = 'failed' in busy ? `failed to start (${busy.failed})` : `${(busy.readyMs / 1000).toFixed(1)} s`;
console.log(`time to ready: quiet ${(quiet.readyMs / 1000).toFixed(1)} s (load ${quiet.loadAverage}), busy (2 CPU burners) ${busyText} (load ${busy.loadAverage}), busy/quiet ×${(busy.readyMs / quiet.readyMs).toFixed(2)}`);

await server.settled();
const idle = server.memoryMb();
console.log(`at rest once ready: ${mb(idle)} (load ${load()})`);

const capacity = Math.min(10, Math.max(2, await server.metric('tolk_capacity_streams')));
const recording = librivoxRecordings()[0];
const { samples, sampleRateHz } = loadWav(recording?.path ?? '');
const keys = await Promise.all(Array.from({ length: capacity }, () => fetchSessionKey(server.url, server.apiKey, 300)));
await Promise.all(keys.map((key) => streamAudio({
  url: vtUrl(server.url, key), samples, sampleRateHz, firstEventWaitMs: 120_000, idleCloseMs: 3000, timeoutMs: 300_000,
  config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' },
})));
const loaded = server.memoryMb();
const perStream = { rssMb: (loaded.rssMb - idle.rssMb) / (capacity - 1), pssMb: (loaded.pssMb - idle.pssMb) / (capacity - 1) };
console.log(`after ${capacity} streams together (${capacity} recognizers loaded, as the former start-up held at rest): ${mb(loaded)}; per additional stream ${mb(perStream)}`);

// Idle recognizers beyond the reserve go 30–40 s after the last stream took one; then memory settles.
await new Promise((r) => setTimeout(r, 40_000));
let last = Infinity;
await until(async () => {
  const now = server.memoryMb().rssMb;
  const stable = now > last - 5;
  last = now;
  return stable;
}, 60_000);
const shrunk = server.memoryMb();
console.log(`40 s and more after the last stream (idle recognizers beyond the reserve freed): ${mb(shrunk)}`);
await server.close();

fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/engine-hosting.json', JSON.stringify({
  readyMs: { quiet: quiet.readyMs, busy: busy.readyMs, quietLoad: quiet.loadAverage, busyLoad: busy.loadAverage },
  idle, capacity, loaded, perStream, shrunk,
}, null, 2));
