import koffi from 'koffi';
import { SLOW_CALLS, type SlowCall } from './pocketsphinx-decls.js';
import { recognizerThreads } from './native-threads.js';

/**
 * The C API of Debian's pocketsphinx 0.8 (`libpocketsphinx.so.3`, `libsphinxbase.so.3`) through
 * koffi. The slow calls ({@link SLOW_CALLS}) are made with {@link callSlow} on the recognizer's own
 * threads; the others here are cheap lookups made on the calling thread. Pointers are `intptr_t`
 * numbers (a decoder, config or lattice handle), 0 for NULL.
 */
export interface PocketsphinxLib {
  cmdLnParse: (inout: null, defn: number, argc: number, argv: string[], strict: number) => number;
  cmdLnFloat: (cmdln: number, name: string) => number;
  logmathExp: (lmath: number, logValue: number) => number;
  psArgs: () => number;
  psStartUtt: (ps: number) => number;
  psGetHyp: (ps: number, score: number[]) => string | null;
  psLookupWord: (ps: number, word: string) => string | null;
  psGetConfig: (ps: number) => number;
  psGetLogmath: (ps: number) => number;
  psGetSearch: (ps: number) => string | null;
  psGetLm: (ps: number, name: string) => number;
  /** Exported by the library though declared only in its internal header `ps_lattice_internal.h`. */
  psLatticeSegIter: (dag: number, link: number, lwf: number) => number;
  /** Frees the iterator when it returns NULL. */
  psSegNext: (seg: number) => number;
  psSegWord: (seg: number) => string | null;
  psSegProb: (seg: number, ascr: number[], lscr: number[], lback: number[]) => number;
  /** The unigram count of a language model (the first of `ngram_model_get_counts`). */
  ngramUnigrams: (model: number) => number;
  ngramWord: (model: number, wid: number) => string | null;
}

/** A koffi function that can also be called asynchronously on libuv's pool (`fn.async(...args, callback)`). */
type KoffiAsyncFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

let lib: PocketsphinxLib | undefined;
let slowFns: Record<SlowCall, KoffiAsyncFn> | undefined;

/**
 * Loads the libraries once and silences pocketsphinx's logging.
 * @throws {Error} when `libpocketsphinx3` is not installed.
 */
export function loadLib(): PocketsphinxLib {
  if (lib) return lib;
  const sb = koffi.load('libsphinxbase.so.3');
  const ps = koffi.load('libpocketsphinx.so.3');
  sb.func('void err_set_logfp(void *fp)')(null);
  slowFns = Object.fromEntries(Object.entries(SLOW_CALLS).map(([name, decl]) => [name, ps.func(decl)])) as unknown as Record<SlowCall, KoffiAsyncFn>;
  lib = {
    cmdLnParse: sb.func('intptr_t cmd_ln_parse_r(void *inout, intptr_t defn, int argc, const char **argv, int strict)'),
    cmdLnFloat: sb.func('double cmd_ln_float_r(intptr_t cmdln, const char *name)'),
    logmathExp: sb.func('double logmath_exp(intptr_t lmath, int logb_p)'),
    psArgs: ps.func('intptr_t ps_args()'),
    psStartUtt: ps.func('int ps_start_utt(intptr_t ps)'),
    psGetHyp: ps.func('const char *ps_get_hyp(intptr_t ps, _Out_ int32_t *score)'),
    psLookupWord: ps.func('const char *ps_lookup_word(intptr_t ps, const char *word)'),
    psGetConfig: ps.func('intptr_t ps_get_config(intptr_t ps)'),
    psGetLogmath: ps.func('intptr_t ps_get_logmath(intptr_t ps)'),
    psGetSearch: ps.func('const char *ps_get_search(intptr_t ps)'),
    psGetLm: ps.func('intptr_t ps_get_lm(intptr_t ps, const char *name)'),
    psLatticeSegIter: ps.func('intptr_t ps_lattice_seg_iter(intptr_t dag, intptr_t link, float lwf)'),
    psSegNext: ps.func('intptr_t ps_seg_next(intptr_t seg)'),
    psSegWord: ps.func('const char *ps_seg_word(intptr_t seg)'),
    psSegProb: ps.func('int32_t ps_seg_prob(intptr_t seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)'),
    ngramUnigrams: ((counts) => (model: number) => (koffi.decode(counts(model), 'uint32_t', 1) as number[])[0] ?? 0)(
      sb.func('const uint32_t *ngram_model_get_counts(intptr_t model)'),
    ),
    ngramWord: sb.func('const char *ngram_word(intptr_t model, int32_t wid)'),
  };
  return lib;
}

/**
 * Runs the slow call `name` off the event loop: on the recognizer's own threads
 * (`native-threads.ts`), or with `TOLK_STT_THREADS=libuv` as a koffi async call on libuv's pool.
 * @returns what the C function returned (pointers as numbers, 0 for NULL).
 * @throws {Error} what koffi reports (argument errors), or a lost recognizer thread.
 */
export async function callSlow<T>(name: SlowCall, ...args: unknown[]): Promise<T> {
  return (await callSlowTimed<T>(name, ...args)).result;
}

/**
 * {@link callSlow} for loading or freeing a recognizer: on the recognizer's threads it runs after
 * every waiting call of a running stream, on all threads but one.
 * @throws {Error} as {@link callSlow}.
 */
export async function callSlowInBackground<T>(name: SlowCall, ...args: unknown[]): Promise<T> {
  loadLib();
  const threads = recognizerThreads();
  if (threads) return (await threads.call<T>(name, args, { background: true })).result;
  return callSlow<T>(name, ...args);
}

/**
 * {@link callSlow}, also returning the CPU time the recognizer thread spent on the call in ms
 * (`cpuMs`); undefined with `TOLK_STT_THREADS=libuv` (libuv's threads cannot be told apart).
 * @throws {Error} as {@link callSlow}.
 */
export async function callSlowTimed<T>(name: SlowCall, ...args: unknown[]): Promise<{ result: T; cpuMs: number | undefined }> {
  loadLib();
  const threads = recognizerThreads();
  if (threads) return threads.call<T>(name, args);
  const fn = (slowFns as Record<SlowCall, KoffiAsyncFn>)[name];
  const result = await new Promise<T>((resolve, reject) => {
    fn.async(...args, (err: Error | null, value: T) => (err ? reject(err) : resolve(value)));
  });
  return { result, cpuMs: undefined };
}
