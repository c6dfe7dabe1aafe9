import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';

/**
 * A child process that (when `capped`) calls limitMallocArenasAtStart, then has 8 worker threads
 * allocate at once, and prints how many malloc arenas glibc's malloc_info reports before the call
 * and after the threads (the test runner's loader thread has taken some before any code runs).
 */
function arenasAddedByThreads(capped: boolean): number {
  const script = `
    import koffi from 'koffi';
    import fs from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import { limitMallocArenasAtStart } from './src/providers/stt/native-heap.ts';
    const c = koffi.load('libc.so.6');
    koffi.opaque('FILE');
    const fopen = c.func('FILE *fopen(const char *path, const char *mode)');
    const fclose = c.func('int fclose(FILE *f)');
    const mallocInfo = c.func('int malloc_info(int options, FILE *f)');
    const arenas = () => {
      const f = fopen(process.argv[1], 'w');
      mallocInfo(0, f);
      fclose(f);
      return (fs.readFileSync(process.argv[1], 'utf8').match(/<heap nr=/g) ?? []).length;
    };
    const before = arenas();
    if (${capped}) limitMallocArenasAtStart({});
    const work = 'import { parentPort } from "node:worker_threads"; const a = []; for (let i = 0; i < 2000; i++) a.push(Buffer.allocUnsafeSlow(4096 + i)); parentPort.postMessage(a.length);';
    await Promise.all(Array.from({ length: 8 }, () => new Promise((r) => new Worker(new URL('data:text/javascript,' + encodeURIComponent(work))).once('message', r))));
    console.log(arenas() - before);
  `;
  const file = `/tmp/tolk-malloc-info-${process.pid}-${capped}.xml`;
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  delete env.TOLK_MALLOC_TUNING;
  try {
    return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file], { env, encoding: 'utf8' }).trim());
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe('malloc arenas', { skip: process.platform !== 'linux' && 'glibc only' }, () => {
  it('once capped, threads that allocate take no new arenas (without the cap each takes one)', { timeout: 120_000 }, () => {
    const capped = arenasAddedByThreads(true);
    const free = arenasAddedByThreads(false);
    assert.equal(capped, 0, `8 threads added ${capped} arenas to the capped process`);
    assert.ok(free > 0, 'the uncapped process took no new arenas either: the test would prove nothing');
  });
});
