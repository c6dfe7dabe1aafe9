import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SlowCall } from './pocketsphinx-decls.js';

/** What a recognizer thread answers for one call. */
interface Answer {
  id: number;
  result?: unknown;
  error?: string;
  cpuMs: number;
}

interface Pending {
  background: boolean;
  call: SlowCall;
  args: unknown[];
  resolve: (value: { result: unknown; cpuMs: number }) => void;
  reject: (err: Error) => void;
}

/**
 * Threads of the recognizer's own (`worker_threads`, docs/deploy.md "Threads"): the slow
 * pocketsphinx calls (load, decode, vocabulary, lattice) run here instead of on libuv's shared pool
 * of 4 threads, so file reads, `dns.lookup`, crypto and zlib never wait behind a decode. Each thread
 * runs one call at a time; calls wait in arrival order for a free thread, background calls (loading
 * or freeing a recognizer) only when no other call waits and on all threads but one, so loading
 * recognizers for arriving streams never holds up the decodes of the streams already running. The CPU time the threads spent on
 * calls is summed ({@link NativeThreads.cpuMs}) for the real-time budget.
 */
export class NativeThreads {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly waiting: Pending[] = [];
  private readonly background: Pending[] = [];
  private backgroundRunning = 0;
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private spentCpuMs = 0;

  /** @param size - threads, at least 1 (default: the cores Node sees, plus one for background work). */
  constructor(readonly size: number = os.availableParallelism() + 1) {
    if (!(size >= 1)) throw new Error(`recognizer threads must be at least 1, got ${size}`);
  }

  /** CPU time the threads spent on calls since start, in ms (CLOCK_THREAD_CPUTIME_ID of each thread). */
  get cpuMs(): number {
    return this.spentCpuMs;
  }

  /** Calls waiting for a thread. */
  get queued(): number {
    return this.waiting.length + this.background.length;
  }

  /**
   * Runs `call` with `args` on a recognizer thread; with `options.background`, after every other
   * waiting call and on at most all threads but one.
   * @returns what the C function returned (`result`, pointers as numbers) and the thread's CPU time
   *   for it (`cpuMs`).
   * @throws {Error} when koffi rejects the arguments or the thread died.
   */
  call<T>(call: SlowCall, args: unknown[], options: { background?: boolean } = {}): Promise<{ result: T; cpuMs: number }> {
    return new Promise((resolve, reject) => {
      const background = options.background === true;
      (background ? this.background : this.waiting).push({ background, call, args, resolve: resolve as Pending['resolve'], reject });
      this.dispatch();
    });
  }

  /** Stops the threads (calls in flight are rejected). */
  async close(): Promise<void> {
    const all = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    for (;;) {
      const fromBackground = this.waiting.length === 0 && this.backgroundRunning < Math.max(1, this.size - 1) && this.background.length > 0;
      if (this.waiting.length === 0 && !fromBackground) return;
      const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = (fromBackground ? this.background.shift() : this.waiting.shift()) as Pending;
      if (job.background) this.backgroundRunning++;
      this.busy.set(worker, job);
      worker.ref();
      worker.postMessage({ id: this.nextId++, call: job.call, args: job.args });
    }
  }

  private spawn(): Worker {
    const worker = import.meta.url.endsWith('.ts') ? tsxWorker() : new Worker(new URL('./native-thread-worker.js', import.meta.url));
    this.workers.push(worker);
    worker.on('message', (a: Answer) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      if (job?.background) this.backgroundRunning--;
      this.spentCpuMs += a.cpuMs;
      if (this.workers.includes(worker)) this.idle.push(worker);
      worker.unref();
      if (a.error !== undefined) job?.reject(new Error(a.error));
      else job?.resolve({ result: a.result, cpuMs: a.cpuMs });
      this.dispatch();
    });
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`recognizer thread exited (${code})`)));
    return worker;
  }

  private lost(worker: Worker, err: Error): void {
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    if (job?.background) this.backgroundRunning--;
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers.splice(i, 1);
    const j = this.idle.indexOf(worker);
    if (j >= 0) this.idle.splice(j, 1);
    job?.reject(err);
  }
}

/**
 * The recognizer thread when this module runs as TypeScript source (tests and benches under tsx):
 * the thread registers tsx's loader first, then imports the `.ts` entry.
 */
function tsxWorker(): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./native-thread-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

let shared: NativeThreads | undefined;

/**
 * Where slow recognizer calls run (`TOLK_STT_THREADS`): `undefined` for `libuv` (koffi async calls
 * on libuv's shared pool, the old behaviour kept for `bench/engine-threads.ts`), else the process's
 * {@link NativeThreads} — as many threads as the number given, default the cores Node sees plus one.
 */
export function recognizerThreads(): NativeThreads | undefined {
  const setting = process.env.TOLK_STT_THREADS?.trim();
  if (setting === 'libuv') return undefined;
  if (!shared) {
    const n = Number(setting);
    shared = new NativeThreads(setting && Number.isInteger(n) && n >= 1 ? n : os.availableParallelism() + 1);
  }
  return shared;
}
