import type { DictionaryTerm } from '../domain/glossary.js';

/** Loads an organization's glossary for a language pair (normally `glossaryTermsFor`). */
export type GlossaryLoader = (organizationId: string, sourceLang: string, targetLang: string) => Promise<DictionaryTerm[]>;

interface Entry {
  terms: DictionaryTerm[] | undefined;
  loadedAtMs: number;
  pending: Promise<DictionaryTerm[]> | undefined;
}

/** Entries kept before expired ones are swept. */
const SWEEP_AT_ENTRIES = 1000;

/**
 * A short-lived, process-wide cache of organizations' glossaries, so every stream can re-read its
 * glossary for each utterance cheaply: at most one query per organization and language pair per
 * `ttlMs`, concurrent readers share it. A term written to the database applies to every utterance
 * translated more than `ttlMs` later. When a reload fails the last terms are kept (and the error
 * rethrown only when there are none).
 */
export class GlossaryCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param load - the database read.
   * @param ttlMs - how long loaded terms are served before the next read, in ms.
   * @param now - clock, for tests.
   */
  constructor(
    private readonly load: GlossaryLoader,
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The glossary terms of an organization for a language pair (primary subtags decide the pair).
   * @throws {Error} the loader's error when the terms were never loaded.
   */
  async get(organizationId: string, sourceLang: string, targetLang: string): Promise<DictionaryTerm[]> {
    const key = `${organizationId}\u0000${sourceLang}\u0000${targetLang}`;
    let entry = this.entries.get(key);
    if (entry?.terms && this.now() - entry.loadedAtMs < this.ttlMs) return entry.terms;
    if (!entry) {
      this.sweep();
      entry = { terms: undefined, loadedAtMs: 0, pending: undefined };
      this.entries.set(key, entry);
    }
    const e = entry;
    e.pending ??= this.load(organizationId, sourceLang, targetLang)
      .then((terms) => {
        e.terms = terms;
        e.loadedAtMs = this.now();
        return terms;
      })
      .finally(() => {
        e.pending = undefined;
      });
    try {
      return await e.pending;
    } catch (err) {
      if (e.terms) return e.terms;
      throw err;
    }
  }

  private sweep(): void {
    if (this.entries.size < SWEEP_AT_ENTRIES) return;
    const t = this.now();
    for (const [k, e] of this.entries) if (!e.pending && t - e.loadedAtMs >= this.ttlMs) this.entries.delete(k);
  }
}
