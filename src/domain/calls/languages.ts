import { primaryLanguage } from '../../common/language-tags.js';
import type { OfferedPair } from '../sessions.js';

/**
 * Why a call's languages cannot be served by the installed engines (docs/calls.md "Languages"), or
 * undefined: the customer's language must be recognized and translatable into the agent's (the
 * agent's leg is not required to translate back: a one-way engine set still serves the customer).
 * Checked when the session is created, so a stream never starts with a language no engine has.
 * @param pairs - `supportedPairs` of the provider registry (primary subtags).
 */
export function callLanguageProblem(pairs: readonly OfferedPair[], sourceLanguage: string, targetLanguage: string): { field: string; message: string } | undefined {
  const s = primaryLanguage(sourceLanguage);
  const t = primaryLanguage(targetLanguage);
  const sources = [...new Set(pairs.map((p) => p.source))];
  if (!sources.includes(s)) return { field: 'source_language', message: `Unsupported source_language '${sourceLanguage}': the installed engines recognize ${sources.join(', ')}.` };
  if (!pairs.some((p) => p.source === s && p.target === t)) {
    return { field: 'target_language', message: `Unsupported target_language '${targetLanguage}' for source ${s}: supported ${pairs.filter((p) => p.source === s).map((p) => p.target).join(', ')}.` };
  }
  return undefined;
}
