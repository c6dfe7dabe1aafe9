import koffi from 'koffi';

/** glibc's `mallopt` parameter for the number of malloc arenas (`M_ARENA_MAX` in malloc.h). */
const M_ARENA_MAX = -8;

/** A koffi function that can also be called on libuv's pool. */
type KoffiFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

let libc: { mallopt: (param: number, value: number) => number; mallocTrim: KoffiFn } | null | undefined;

function loadLibc(): typeof libc {
  if (libc !== undefined) return libc;
  // TOLK_MALLOC_TUNING=off: glibc's defaults (the baseline of bench/memory-cycles.ts).
  if (process.env.TOLK_MALLOC_TUNING === 'off') return (libc = null);
  try {
    const c = koffi.load('libc.so.6');
    libc = { mallopt: c.func('int mallopt(int param, int value)'), mallocTrim: c.func('int malloc_trim(size_t pad)') as KoffiFn };
  } catch {
    libc = null; // not glibc: nothing to tune
  }
  return libc;
}

/**
 * Caps glibc's malloc arenas. Decoders are loaded and run on libuv's thread pool; by default each
 * thread that contends gets an arena of its own (up to 8 per core), and a freed decoder's ~60 MB
 * then stays mapped in whichever arena held it. Two arenas keep freed memory reusable.
 * No-op where libc is not glibc.
 */
export function limitMallocArenas(count: number): void {
  loadLibc()?.mallopt(M_ARENA_MAX, count);
}

/** Arenas a process keeps when `MALLOC_ARENA_MAX` does not say otherwise. */
export const DEFAULT_MALLOC_ARENAS = 2;

/**
 * Caps glibc's malloc arenas for the whole process, to be called first thing at start-up (bin/tolk.js),
 * before the threads that allocate (libuv's pool, V8's platform threads, the recognizer threads)
 * have taken arenas of their own: a cap set later does not merge the arenas already created
 * (measured: 14 arenas after 8 threads allocate uncapped, 2 capped first). Leaves glibc's own
 * reading of `MALLOC_ARENA_MAX` alone when it is set.
 * No-op where libc is not glibc or with `TOLK_MALLOC_TUNING=off`.
 */
export function limitMallocArenasAtStart(env: NodeJS.ProcessEnv = process.env): void {
  if (env.MALLOC_ARENA_MAX === undefined) limitMallocArenas(DEFAULT_MALLOC_ARENAS);
}

let trimScheduled = false;

/**
 * Gives freed native memory back to the system (`malloc_trim(0)`, off the event loop), at most once
 * a second however often it is asked: after decoders are freed, resident memory falls back instead
 * of staying at its peak. No-op where libc is not glibc.
 */
export function scheduleHeapTrim(): void {
  const c = loadLibc();
  if (!c || trimScheduled) return;
  trimScheduled = true;
  setTimeout(() => {
    c.mallocTrim.async(0, () => {
      trimScheduled = false;
    });
  }, 1000).unref();
}
