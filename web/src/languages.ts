/**
 * The language catalog from `GET /api/v1/languages`, fetched once per page load and shared by every
 * page. A failed fetch is not cached, so the next call retries.
 */
import { fetchLanguages, type LanguageCatalog } from './api/http';

let pending: Promise<LanguageCatalog> | undefined;
let loaded: LanguageCatalog | undefined;

/**
 * Returns the catalog, fetching it the first time.
 * @throws {ApiError} when the server cannot be reached or has no engines.
 */
export function loadLanguages(): Promise<LanguageCatalog> {
  pending ??= fetchLanguages().then(
    (catalog) => (loaded = catalog),
    (error: unknown) => {
      pending = undefined;
      throw error;
    },
  );
  return pending;
}

/** The English name of a language code ("es" → "Spanish"), or the code itself when unknown. */
export function languageName(code: string): string {
  return loaded?.languages.find((l) => l.code === code)?.name ?? code;
}

/** Picks the first of `candidates` that is in the catalog, else `fallback`. */
export function pickLanguage(catalog: LanguageCatalog, fallback: string, ...candidates: (string | undefined)[]): string {
  for (const code of candidates) if (code && catalog.languages.some((l) => l.code === code)) return code;
  return fallback;
}
