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

/** A language as a picker offers it: with a short note when it cannot do everything ("text only"). */
export interface LanguageOption {
  code: string;
  name: string;
  /** Shown after the name ("text only", "typing only"), or undefined. */
  note?: string;
}

/** The languages that can be heard (a recognizer exists): the only sources a picker offers. */
export function sourceOptions(catalog: LanguageCatalog): LanguageOption[] {
  return catalog.languages.filter((l) => l.heard).map((l) => ({ code: l.code, name: l.name }));
}

/**
 * The targets `source` can be translated into, each marked "text only" when it has no voice.
 * The source itself is listed when the server serves it (a transcript without translation).
 */
export function targetOptions(catalog: LanguageCatalog, source: string): LanguageOption[] {
  const pairs = catalog.pairs.filter((p) => p.source === source);
  return catalog.languages.flatMap((l) => {
    const pair = pairs.find((p) => p.target === l.code);
    if (!pair) return [];
    return [pair.speech ? { code: l.code, name: l.name } : { code: l.code, name: l.name, note: 'text only' }];
  });
}

/** True when the pair `source` → `target` is served without a voice (translation shown, not spoken). */
export function isTextOnly(catalog: LanguageCatalog, source: string, target: string): boolean {
  return catalog.pairs.some((p) => p.source === source && p.target === target && !p.speech);
}

/**
 * The languages a conversation participant can choose: every language the server knows, marked
 * "typing only" when speech in it cannot be recognized (the participant types instead).
 */
export function participantOptions(catalog: LanguageCatalog): LanguageOption[] {
  return catalog.languages.map((l) => (l.heard ? { code: l.code, name: l.name } : { code: l.code, name: l.name, note: 'typing only' }));
}

/** Whether speech in `code` can be recognized on this server (unknown codes: true). */
export function isHeard(code: string): boolean {
  return loaded?.languages.find((l) => l.code === code)?.heard ?? true;
}

/** Whether `code` has a voice on this server (unknown codes: true). */
export function isSpoken(code: string): boolean {
  return loaded?.languages.find((l) => l.code === code)?.spoken ?? true;
}

/**
 * One sentence on what a conversation between `mine` and `theirs` can do on this server (speech
 * that cannot be recognized is typed; a language without a voice is read), for the start and join
 * screens.
 */
export function conversationPairNote(mine: string, theirs: string): string {
  const notes: string[] = [];
  if (!isHeard(mine)) notes.push(`Speech in ${languageName(mine)} cannot be recognized on this server: you type your messages.`);
  if (!isHeard(theirs)) notes.push(`Speech in ${languageName(theirs)} cannot be recognized on this server: your partner types their messages.`);
  if (!isSpoken(mine)) notes.push(`No voice for ${languageName(mine)}: you read your partner's words.`);
  if (!isSpoken(theirs)) notes.push(`No voice for ${languageName(theirs)}: your partner reads your words.`);
  return notes.length > 0 ? notes.join(' ') : 'Tolk translates both ways, as text and as speech.';
}
