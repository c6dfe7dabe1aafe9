/**
 * Resident memory over repeated cycles of concurrent streams: does a server give memory back after
 * its streams close? Each cycle opens 8 /vt streams at once (twice the 4 idle recognizers kept, so
 * 4 recognizers are freed when it ends), streams a LibriVox recording through each, closes them,
 * and reads RSS once the server is idle again. Runs twice in child processes: with Tolk's native-heap
 * tuning (2 malloc arenas, malloc_trim after decoders are freed) and with glibc's defaults
 * (TOLK_MALLOC_TUNING=off) as the baseline measured in the same run.
 *
 *   node --import tsx bench/memory-cycles.ts [--cycles 4]
 *
 * Writes bench/results/memory-cycles.json and prints a one-line summary.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { streamAudio, vtUrl, fetchSessionKey } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { closeEngines, createOfflineEngines } from '../src/providers/index.js';
import { startServer } from '../src/server.js';
import { librivoxSamples } from '../test/helpers.js';

const STREAMS = 8;
const cyclesArg = process.argv.indexOf('--cycles');
const CYCLES = cyclesArg > 0 ? Number(process.argv[cyclesArg + 1]) : 4;

/** One child: the cycles, printing a JSON line of RSS in MB after start and after each cycle. */
async function runCycles(): Promise<void> {
  const engines = await createOfflineEngines({ idleDecoders: 4 });
  const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', maxStreams: 64 }), { engines });
  const key = await fetchSessionKey(server.url, server.firstOwnerKey ?? '', 3600);
  const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
  const samples = librivoxSamples('0880');
  const after: number[] = [rssMb()];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    await Promise.all(Array.from({ length: STREAMS }, () => streamAudio({
      url: vtUrl(server.url, key), samples, sampleRateHz: 16000, firstEventWaitMs: 30_000, timeoutMs: 120_000,
      config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' },
    })));
    // The trim runs a second after decoders are freed.
    await new Promise((r) => setTimeout(r, 2500));
    after.push(rssMb());
  }
  await server.close();
  await closeEngines(engines);
  console.log(JSON.stringify(after));
}

if (process.argv.includes('--child')) {
  await runCycles();
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (env: Record<string, string>): number[] => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', '--cycles', String(CYCLES)], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '16', ...env }, encoding: 'utf8', maxBuffer: 1 << 24,
    });
    return JSON.parse(out.trim().split('\n').pop() ?? '[]') as number[];
  };
  const tuned = run({});
  const baseline = run({ TOLK_MALLOC_TUNING: 'off' });
  const report = { streamsPerCycle: STREAMS, cycles: CYCLES, rssMbTuned: tuned, rssMbBaseline: baseline };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/memory-cycles.json', `${JSON.stringify(report, null, 2)}\n`);
  const last = (a: number[]): number => a[a.length - 1] ?? 0;
  console.log(`memory-cycles: RSS MB after start and each cycle of ${STREAMS} streams — tuned ${tuned.join(' → ')}; glibc defaults ${baseline.join(' → ')}; final ratio tuned/baseline ${(last(tuned) / last(baseline)).toFixed(2)}`);
}
