import { primaryLanguage } from '../../common/language-tags.js';

/** Names of languages ICU knows; `of()` is undefined for a code no language has (`xx`, `qq`). */
const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/**
 * Why a call's language tags name no language (docs/calls.md "Languages"), or undefined: the
 * primary subtag must be an assigned ISO 639 code (`xx` is well-formed but names nothing), checked
 * when the session is created. Whether the installed engines serve a real language is checked
 * when the leg's stream opens (one error, then the leg is closed).
 */
export function callLanguageProblem(sourceLanguage: string, targetLanguage: string): { field: string; message: string } | undefined {
  for (const [field, tag] of [['source_language', sourceLanguage], ['target_language', targetLanguage]] as const) {
    const primary = primaryLanguage(tag);
    let name: string | undefined;
    try {
      name = LANGUAGE_NAMES.of(primary);
    } catch {
      name = undefined;
    }
    if (!name || name.toLowerCase() === primary) return { field, message: `Unsupported ${field} '${tag}': '${primary}' is not a language code (use one such as de, en or pt-BR).` };
  }
  return undefined;
}
