import type { MtText } from '../providers/mt/types.js';

/** A dictionary term: wherever `source` occurs in the transcript, the translation says `target` (spec 002 `translation_dictionary`). */
export interface DictionaryEntry {
  source: string;
  target: string;
}

/**
 * Where a pipeline reads its dictionary before each utterance is translated, so terms added while a
 * stream runs apply from its next utterance (e.g. an organization's glossary, docs/architecture.md "The pipeline").
 * Should not throw; when it does, the pipeline keeps the last dictionary it read.
 */
export type DictionarySource = () => Promise<readonly DictionaryEntry[]>;

/**
 * Merges two dictionaries: every entry of `preferred`, then the entries of `other` whose source term
 * (trimmed, case-insensitive) `preferred` does not have — `preferred` wins on the same source term.
 */
export function mergeDictionaries(preferred: readonly DictionaryEntry[], other: readonly DictionaryEntry[]): DictionaryEntry[] {
  const seen = new Set(preferred.map((e) => e.source.trim().toLowerCase()));
  const merged = [...preferred];
  for (const e of other) {
    const k = e.source.trim().toLowerCase();
    if (k && !seen.has(k)) {
      seen.add(k);
      merged.push(e);
    }
  }
  return merged;
}

/** An utterance prepared for MT: slots stand for the dictionary terms found in it. */
export interface ProtectedText {
  input: MtText;
  /** Target term of each slot, by slot number. */
  targets: string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces every occurrence of a dictionary source term (whole words, case-insensitive, longest
 * term first) with a slot the MT engine passes through untouched (docs/architecture.md "The pipeline" "Glossary").
 */
export function protectTerms(text: string, dictionary: readonly DictionaryEntry[]): ProtectedText {
  const entries = dictionary
    .filter((e) => e.source.trim().length > 0)
    .sort((a, b) => b.source.length - a.source.length);
  if (entries.length === 0) return { input: [text], targets: [] };
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(${entries.map((e) => escapeRegExp(e.source.trim())).join('|')})(?![\\p{L}\\p{N}])`,
    'giu',
  );
  const input: Array<string | { slot: number }> = [];
  const targets: string[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const matched = (m[1] ?? '').toLowerCase();
    const entry = entries.find((e) => e.source.trim().toLowerCase() === matched);
    if (!entry) continue;
    if (m.index > last) input.push(text.slice(last, m.index));
    input.push({ slot: targets.length });
    targets.push(entry.target);
    last = m.index + m[0].length;
  }
  if (last < text.length) input.push(text.slice(last));
  return { input, targets };
}

/**
 * Turns MT output back into text, writing each slot's target term. A slot the engine dropped is
 * appended, so a dictionary term is never lost.
 */
export function restoreTerms(output: MtText, targets: readonly string[]): string {
  const seen = new Set<number>();
  let text = '';
  for (const part of output) {
    if (typeof part === 'string') {
      text += part;
    } else {
      seen.add(part.slot);
      text += targets[part.slot] ?? '';
    }
  }
  targets.forEach((t, i) => {
    if (!seen.has(i)) text += ` ${t}`;
  });
  return text.replace(/\s+/g, ' ').trim();
}
