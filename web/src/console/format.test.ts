import { describe, expect, it } from 'vitest';
import { explainFailure, filterTerms, formatWhen, glossaryCsv, keyHintOf, keyMode, notLoadedNote } from './format';

const terms = [
  { id: 'g1', sourceTerm: 'heart attack, acute', targetTerm: 'infarto "agudo"', languagePair: 'en-es' },
  { id: 'g2', sourceTerm: 'aspirin', targetTerm: 'aspirina', languagePair: 'en-gl' },
];

describe('console format', () => {
  it('exports the glossary as RFC 4180 CSV with the import header', () => {
    expect(glossaryCsv(terms)).toBe('source_term,target_term,language_pair\r\n"heart attack, acute","infarto ""agudo""",en-es\r\naspirin,aspirina,en-gl\r\n');
    expect(glossaryCsv([])).toBe('source_term,target_term,language_pair\r\n');
  });

  it('filters terms by source, target or pair, case-insensitively', () => {
    expect(filterTerms(terms, 'ASPIR').map((t) => t.id)).toEqual(['g2']);
    expect(filterTerms(terms, 'en-es').map((t) => t.id)).toEqual(['g1']);
    expect(filterTerms(terms, '  ').map((t) => t.id)).toEqual(['g1', 'g2']);
    expect(filterTerms(terms, 'zzz')).toEqual([]);
  });

  it('recognizes a key by the hint the API lists, and its mode', () => {
    expect(keyHintOf('ip_live_Ab3xYYYYYYYYYYYYYYYYYYYYYYYYYYYY')).toBe('ip_live_Ab3x…');
    expect(keyMode('ip_test_••••')).toBe('test');
    expect(keyMode('ip_live_••••')).toBe('live');
  });

  it('says "Never" for a key never used', () => {
    expect(formatWhen(null)).toBe('Never');
    expect(formatWhen('2026-12-08T00:14:00.000Z', 'en-GB')).toMatch(/8 Dec 2026/);
  });

  it('explains a 403 with the server message and the role rules, a 429 with the wait', () => {
    const forbidden = explainFailure('Rotating the key', 403, 'This action requires the admin role or higher; this key\'s role is member');
    expect(forbidden.title).toBe('Rotating the key is not allowed for this key');
    expect(forbidden.detail).toMatch(/^This action requires the admin role or higher; this key's role is member\. Roles rank owner > admin > member/);
    expect(explainFailure('Loading the keys', 429, 'Too many requests. Retry after 12 seconds.', 12).detail).toMatch(/Wait 12 s, then retry/);
    expect(explainFailure('Loading the keys', 0, '').title).toBe('Cannot reach the Tolk server');
  });

  it('says why a card shows nothing once its request failed, instead of "Loading…"', () => {
    expect(notLoadedNote(403)).toMatch(/^Not shown: this key's role may not see it/);
    expect(notLoadedNote(0)).toMatch(/^Not loaded: the server did not answer/);
    expect(notLoadedNote(429)).toMatch(/too many requests/);
    expect(notLoadedNote(500)).toBe('Not loaded: see the message above.');
  });
});
