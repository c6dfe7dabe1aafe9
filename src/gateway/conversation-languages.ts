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
 * The languages of spec 003 `GET /api/v1/languages`, discovered from the installed engines (DESIGN §4):
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
