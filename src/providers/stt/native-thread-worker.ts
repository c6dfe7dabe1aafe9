/**
 * A recognizer thread (a `worker_threads` worker started by `native-threads.ts`): runs the slow
 * pocketsphinx calls of {@link SLOW_CALLS} synchronously, one at a time, and reports with each
 * result the CPU time this thread spent on it (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), so the
 * real-time budget measures the recognizer's own cost whatever else the machine runs.
 */
import { parentPort } from 'node:worker_threads';
import koffi from 'koffi';
import { SLOW_CALLS, type SlowCall } from './pocketsphinx-decls.js';

/** Linux's `CLOCK_THREAD_CPUTIME_ID` (time.h). */
const CLOCK_THREAD_CPUTIME_ID = 3;

const ps = koffi.load('libpocketsphinx.so.3');
const libc = koffi.load('libc.so.6');
const Timespec = koffi.struct('tolk_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
const clockGettime = libc.func('int clock_gettime(int clk, _Out_ tolk_timespec *ts)');
void Timespec;
const calls = Object.fromEntries(Object.entries(SLOW_CALLS).map(([name, decl]) => [name, ps.func(decl)])) as unknown as Record<SlowCall, (...args: unknown[]) => unknown>;

function threadCpuMs(): number {
  const ts = { tv_sec: 0, tv_nsec: 0 };
  clockGettime(CLOCK_THREAD_CPUTIME_ID, ts);
  return Number(ts.tv_sec) * 1000 + Number(ts.tv_nsec) / 1e6;
}

parentPort?.on('message', (m: { id: number; call: SlowCall; args: unknown[] }) => {
  const before = threadCpuMs();
  try {
    const result = calls[m.call](...m.args);
    parentPort?.postMessage({ id: m.id, result, cpuMs: threadCpuMs() - before });
  } catch (err) {
    parentPort?.postMessage({ id: m.id, error: (err as Error).message, cpuMs: threadCpuMs() - before });
  }
});
