/**
 * The C declarations of the pocketsphinx 0.8 calls that may be slow (`libpocketsphinx.so.3`), by
 * name: the main thread and the recognizer threads (`native-thread-worker.ts`) declare them from
 * this one table. Opaque pointers are `intptr_t`, so handles are plain numbers that can be passed
 * between threads (x86-64 and arm64 user-space addresses fit in a double exactly).
 */
export const SLOW_CALLS = {
  psInit: 'intptr_t ps_init(intptr_t config)',
  psEndUtt: 'int ps_end_utt(intptr_t ps)',
  psProcessRaw: 'int ps_process_raw(intptr_t ps, const int16_t *data, size_t n, int no_search, int full_utt)',
  /** `ps_add_word`: rebuilds the search (100–200 ms a word). */
  psAddWord: 'int ps_add_word(intptr_t ps, const char *word, const char *phones, int update)',
  /** `ps_get_lattice`: builds the utterance's word lattice, owned by the decoder (never freed here). */
  psGetLattice: 'intptr_t ps_get_lattice(intptr_t ps)',
  psLatticeBestpath: 'intptr_t ps_lattice_bestpath(intptr_t dag, intptr_t lmset, float lwf, float ascale)',
  psLatticePosterior: 'int32_t ps_lattice_posterior(intptr_t dag, intptr_t lmset, float ascale)',
  psFree: 'int ps_free(intptr_t ps)',
  /** sphinxbase's, found through libpocketsphinx's dependencies: reads a language model (`type` 0: by its header). */
  ngramModelRead: 'intptr_t ngram_model_read(intptr_t config, const char *file, int type, intptr_t lmath)',
  ngramModelFree: 'int ngram_model_free(intptr_t model)',
  logmathInit: 'intptr_t logmath_init(double base, int shift, int use_table)',
  logmathFree: 'int logmath_free(intptr_t lmath)',
} as const;

/** The name of a slow call. */
export type SlowCall = keyof typeof SLOW_CALLS;
