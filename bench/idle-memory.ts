/**
 * Where a `tolk serve` process's resident memory goes at rest after streams (docs/deploy.md
 * "Memory"): starts the server, runs 4 LibriVox streams together, waits until the idle recognizers
 * beyond the reserve were freed and resident memory stopped falling, then prints RSS grouped by
 * mapping from /proc/PID/smaps (the glibc heap and its thread arenas, other anonymous memory —
 * the V8 heap and WASM memory among it —, each shared library) next to V8's own figures from
 * /metrics. Compares a run with `env` given as KEY=VALUE arguments against the defaults, in the
 * same run: `node --import tsx bench/idle-memory.ts [KEY=VALUE…]` (needs `npx tsc -p tsconfig.build.json`).
 */
import fs from 'node:fs';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';
import { startTolkProcess, type TolkProcess } from './tolk-process.js';

/** RSS in MB of each mapping group of `pid`. */
function rssByMapping(pid: number): Map<string, number> {
  const groups = new Map<string, number>();
  let name = '';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const file = head[1] ?? '';
      name = file === '' ? 'anonymous (V8 heap, WASM memory, thread arenas, mmap\'d malloc)' : file.startsWith('/') ? file.replace(/^.*\/node_modules\//, 'node_modules/') : file;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups.set(name, (groups.get(name) ?? 0) + Number(rss[1]) / 1024);
  }
  return groups;
}

/** One server's memory at rest: RSS per mapping group and in all (MB), V8's figures (MB). */
interface AtRest {
  groups: Map<string, number>;
  rssMb: number;
  v8: Record<string, number>;
}

async function atRest(env: Record<string, string>): Promise<AtRest> {
  const server: TolkProcess = await startTolkProcess(env);
  try {
    await server.ready();
    const recordings = librivoxRecordings().slice(0, 4);
    await Promise.all(recordings.map(async (r) => {
      const { samples, sampleRateHz } = loadWav(r.path);
      const key = await fetchSessionKey(server.url, server.apiKey, 300);
      await streamAudio({ url: vtUrl(server.url, key), samples, sampleRateHz, firstEventWaitMs: 120_000, idleCloseMs: 3000, timeoutMs: 300_000,
        config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' } });
    }));
    await new Promise((r) => setTimeout(r, 40_000));
    let last = Infinity;
    for (let i = 0; i < 60; i++) {
      const now = server.memoryMb().rssMb;
      if (now > last - 5) break;
      last = now;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const v8: Record<string, number> = {};
    for (const m of ['tolk_nodejs_heap_size_total_bytes', 'tolk_nodejs_heap_size_used_bytes', 'tolk_nodejs_external_memory_bytes']) v8[m] = (await server.metric(m)) / 2 ** 20;
    return { groups: rssByMapping(server.pid), rssMb: server.memoryMb().rssMb, v8 };
  } finally {
    await server.close();
  }
}

const env = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const runs = [{ label: 'defaults', env: {} }, ...(Object.keys(env).length > 0 ? [{ label: process.argv.slice(2).join(' '), env }] : [])];
const results: Array<AtRest & { label: string }> = [];
for (const r of runs) results.push({ label: r.label, ...(await atRest(r.env)) });
const names = [...new Set(results.flatMap((r) => [...r.groups].filter(([, mb]) => mb >= 2).map(([n]) => n)))];
names.sort((a, b) => (results[0]?.groups.get(b) ?? 0) - (results[0]?.groups.get(a) ?? 0));
console.log(`| mapping | ${results.map((r) => r.label).join(' | ')} |`);
for (const n of names) console.log(`| ${n} | ${results.map((r) => (r.groups.get(n) ?? 0).toFixed(1)).join(' | ')} |`);
console.log(`| total RSS | ${results.map((r) => r.rssMb.toFixed(0)).join(' | ')} |`);
for (const m of Object.keys(results[0]?.v8 ?? {})) console.log(`| ${m} (MB) | ${results.map((r) => (r.v8[m] ?? 0).toFixed(1)).join(' | ')} |`);
