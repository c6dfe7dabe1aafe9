import koffi from 'koffi';

/**
 * The C API of Debian's pocketsphinx 0.8 (`libpocketsphinx.so.3`, `libsphinxbase.so.3`) through
 * koffi. Functions typed {@link KoffiFn} may be slow and are called with {@link callAsync} on libuv's
 * thread pool; the others are cheap lookups. Pointers are opaque (`unknown`).
 */
export interface PocketsphinxLib {
  cmdLnParse: (inout: null, defn: unknown, argc: number, argv: string[], strict: number) => unknown;
  cmdLnFloat: (cmdln: unknown, name: string) => number;
  logmathExp: (lmath: unknown, logValue: number) => number;
  psArgs: () => unknown;
  psInit: KoffiFn;
  psFree: (ps: unknown) => number;
  psStartUtt: (ps: unknown) => number;
  psEndUtt: KoffiFn;
  psProcessRaw: KoffiFn;
  psGetHyp: (ps: unknown, score: number[]) => string | null;
  psLookupWord: (ps: unknown, word: string) => string | null;
  /** `ps_add_word`: rebuilds the search (100–200 ms a word): always through {@link callAsync}. */
  psAddWord: KoffiFn;
  psGetConfig: (ps: unknown) => unknown;
  psGetLogmath: (ps: unknown) => unknown;
  psGetSearch: (ps: unknown) => string | null;
  psGetLm: (ps: unknown, name: string) => unknown;
  /** `ps_get_lattice`: builds the utterance's word lattice, owned by the decoder (never freed here). */
  psGetLattice: KoffiFn;
  psLatticeBestpath: KoffiFn;
  psLatticePosterior: KoffiFn;
  /** Exported by the library though declared only in its internal header `ps_lattice_internal.h`. */
  psLatticeSegIter: (dag: unknown, link: unknown, lwf: number) => unknown;
  /** Frees the iterator when it returns NULL. */
  psSegNext: (seg: unknown) => unknown;
  psSegWord: (seg: unknown) => string | null;
  psSegProb: (seg: unknown, ascr: number[], lscr: number[], lback: number[]) => number;
}

/** A koffi function that can also be called asynchronously (`fn.async(...args, callback)`). */
export type KoffiFn = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

let lib: PocketsphinxLib | undefined;

/**
 * Loads the libraries once and silences pocketsphinx's logging.
 * @throws {Error} when `libpocketsphinx3` is not installed.
 */
export function loadLib(): PocketsphinxLib {
  if (lib) return lib;
  const sb = koffi.load('libsphinxbase.so.3');
  const ps = koffi.load('libpocketsphinx.so.3');
  sb.func('void err_set_logfp(void *fp)')(null);
  const slow = (decl: string): KoffiFn => ps.func(decl) as KoffiFn;
  lib = {
    cmdLnParse: sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)'),
    cmdLnFloat: sb.func('double cmd_ln_float_r(void *cmdln, const char *name)'),
    logmathExp: sb.func('double logmath_exp(void *lmath, int logb_p)'),
    psArgs: ps.func('void *ps_args()'),
    psInit: slow('void *ps_init(void *config)'),
    psFree: ps.func('int ps_free(void *ps)'),
    psStartUtt: ps.func('int ps_start_utt(void *ps)'),
    psEndUtt: slow('int ps_end_utt(void *ps)'),
    psProcessRaw: slow('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
    psGetHyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    psLookupWord: ps.func('const char *ps_lookup_word(void *ps, const char *word)'),
    psAddWord: slow('int ps_add_word(void *ps, const char *word, const char *phones, int update)'),
    psGetConfig: ps.func('void *ps_get_config(void *ps)'),
    psGetLogmath: ps.func('void *ps_get_logmath(void *ps)'),
    psGetSearch: ps.func('const char *ps_get_search(void *ps)'),
    psGetLm: ps.func('void *ps_get_lm(void *ps, const char *name)'),
    psGetLattice: slow('void *ps_get_lattice(void *ps)'),
    psLatticeBestpath: slow('void *ps_lattice_bestpath(void *dag, void *lmset, float lwf, float ascale)'),
    psLatticePosterior: slow('int32_t ps_lattice_posterior(void *dag, void *lmset, float ascale)'),
    psLatticeSegIter: ps.func('void *ps_lattice_seg_iter(void *dag, void *link, float lwf)'),
    psSegNext: ps.func('void *ps_seg_next(void *seg)'),
    psSegWord: ps.func('const char *ps_seg_word(void *seg)'),
    psSegProb: ps.func('int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)'),
  };
  return lib;
}

/**
 * Calls `fn` on libuv's thread pool.
 * @throws what the call's callback reports (koffi argument errors).
 */
export function callAsync<T>(fn: KoffiFn, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: Error | null, result: T) => (err ? reject(err) : resolve(result)));
  });
}
