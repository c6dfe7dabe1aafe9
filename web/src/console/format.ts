/**
 * Pure helpers of the console (docs/console.md): CSV export of the glossary, key masking, dates, and
 * the explanation of a refused call. No DOM here, so web/src/console/format.test.ts covers them.
 */
import type { GlossaryTerm } from '../api/platform';

/** The role rules of the key routes as a person reads them (docs/platform.md "Authentication and roles"). */
export const ROLE_RULES =
  'Roles rank owner > admin > member. A key creates keys up to its own role; owners and admins rotate and delete keys up to their own role; a member may only delete itself. Importing a glossary, and the Live, Usage and billing, and Webhooks and engines pages, need the admin or owner role.';

/** One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * The glossary as the import reads it back (docs/glossary.md "Import"): a header row
 * `source_term,target_term,language_pair`, then one term per line, CRLF line ends.
 */
export function glossaryCsv(terms: readonly GlossaryTerm[]): string {
  const lines = ['source_term,target_term,language_pair', ...terms.map((t) => [t.sourceTerm, t.targetTerm, t.languagePair].map(csvCell).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** The terms whose source, target or pair contains `query` (case-insensitive; all for a blank query). */
export function filterTerms(terms: readonly GlossaryTerm[], query: string): GlossaryTerm[] {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return [...terms];
  return terms.filter((t) => [t.sourceTerm, t.targetTerm, t.languagePair].some((v) => v.toLocaleLowerCase().includes(q)));
}

/** The hint the API lists for `key` (its first 12 characters and "…"), to recognize the signed-in key. */
export function keyHintOf(key: string): string {
  return `${key.slice(0, 12)}…`;
}

/** "live" or "test" from a key or its masked prefix (`ip_test_…`). */
export function keyMode(keyOrPrefix: string): 'live' | 'test' {
  return keyOrPrefix.startsWith('ip_test_') ? 'test' : 'live';
}

/** An ISO timestamp as a short local date and time ("8 Dec 2026, 00:14"), or "Never" for null. */
export function formatWhen(iso: string | null, locale?: string): string {
  if (!iso) return 'Never';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A refusal explained: a title and the server's words, with the role rules for a 403. */
export interface Explanation {
  title: string;
  detail: string;
}

/**
 * What to tell the user about a failed call of `action` ("Rotating the key"). 401 is not explained
 * here: the console signs out and says why (docs/console.md "States").
 */
export function explainFailure(action: string, status: number, serverMessage: string, retryAfterS?: number): Explanation {
  const message = /[.!?]$/.test(serverMessage) ? serverMessage : `${serverMessage}.`;
  if (status === 0) return { title: 'Cannot reach the Tolk server', detail: `${action} did not reach the server. Check that it is running and your connection, then retry.` };
  if (status === 403) return { title: `${action} is not allowed for this key`, detail: `${message} ${ROLE_RULES}` };
  if (status === 429) {
    const wait = retryAfterS ? `${retryAfterS} s` : 'a minute';
    return { title: 'Too many requests', detail: `This key has used its requests for this minute (the server's limit is per key). Wait ${wait}, then retry.` };
  }
  if (status === 409) return { title: `${action} was refused`, detail: message };
  if (status >= 500) return { title: 'The server had a problem', detail: `${action} failed on the server: ${message}` };
  return { title: `${action} was refused`, detail: message };
}

/**
 * What a card that was still loading says once its request failed (docs/console.md "States"), in
 * place of "Loading…": `status` is the HTTP status of the refusal, 0 when the server did not answer.
 * The banner above the cards carries the full explanation and the Retry button.
 */
export function notLoadedNote(status: number): string {
  if (status === 0) return 'Not loaded: the server did not answer. Retry from the message above once it is back.';
  if (status === 403) return 'Not shown: this key\'s role may not see it (the message above gives the rule).';
  if (status === 429) return 'Not loaded yet: too many requests. Retry from the message above.';
  return 'Not loaded: see the message above.';
}
