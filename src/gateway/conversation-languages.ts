import type { Engines } from '../providers/registry.js';
import { primaryLanguage } from '../common/language-tags.js';
import { supportedPairs } from '../providers/registry.js';

/** A language of the conversations surface, with what a participant can do in it. */
export interface ConversationLanguage {
  /** The code clients send (`en-US`, `es`, …). */
  code: string;
  /** English name for the UI (from ICU, not a hard-coded table). */
  name: string;
  /** Speech in this language can be recognized (a participant can speak it). */
  recognized: boolean;
  /** Translation into this language is installed (a participant can read it). */
  translated: boolean;
  /** A voice for this language is installed (a participant can hear translated speech). */
  spoken: boolean;
}

/** Region of the installed recognizer's model, per primary language (pocketsphinx-en-us is US English). */
const RECOGNIZER_REGION: Record<string, string> = { en: 'US' };

const displayNames = new Intl.DisplayNames(['en'], { type: 'language' });

/**
 * The languages of spec 003 `GET /api/v1/languages`, discovered from the installed engines (docs/architecture.md "Engines"):
 * every language that can be recognized or translated into from a recognized one.
 */
export function conversationLanguages(engines: Engines): ConversationLanguage[] {
  const pairs = supportedPairs(engines);
  const recognized = new Set(pairs.map((p) => p.source));
  const spoken = new Set(engines.tts.capabilities.languages.map(primaryLanguage));
  const all = [...new Set([...recognized, ...pairs.map((p) => p.target)])];
  return all.map((lang) => {
    const region = RECOGNIZER_REGION[lang];
    const code = region ? `${lang}-${region}` : lang;
    return {
      code,
      name: displayNames.of(code) ?? code,
      recognized: recognized.has(lang),
      translated: pairs.some((p) => p.target === lang),
      spoken: spoken.has(lang),
    };
  });
}

/** The language entry a client's code refers to (`es-MX` matches `es`), or undefined. */
export function findConversationLanguage(engines: Engines, code: string): ConversationLanguage | undefined {
  const primary = primaryLanguage(code);
  return conversationLanguages(engines).find((l) => primaryLanguage(l.code) === primary);
}

/** A language pair of the engines, in the codes clients send (see {@link conversationLanguages}). */
export interface ConversationPair {
  /** Code of the language heard (a recognizer exists for it). */
  source: string;
  /** Code of the language shown (translation installed, or the same language). */
  target: string;
  /** A voice exists for `target`: the translation can be spoken, else it is text only. */
  speech: boolean;
}

/**
 * Every pair the engines can serve (docs/conversations.md "Languages"): each recognized language to
 * itself and to every target its translator offers, with whether the target has a voice.
 */
export function conversationPairs(engines: Engines): ConversationPair[] {
  const codeOf = new Map(conversationLanguages(engines).map((l) => [primaryLanguage(l.code), l.code]));
  return supportedPairs(engines).map((p) => ({
    source: codeOf.get(p.source) ?? p.source,
    target: codeOf.get(p.target) ?? p.target,
    speech: p.speech,
  }));
}

/**
 * True when `source` can be heard and translated into `target` but `target` has no voice: a
 * `/api/v1/ws/single` config with `"speech": false` is then served as text only.
 */
export function isTextOnlyPair(engines: Engines, source: string, target: string): boolean {
  const s = primaryLanguage(source);
  const t = primaryLanguage(target);
  return supportedPairs(engines).some((p) => p.source === s && p.target === t && !p.speech);
}
