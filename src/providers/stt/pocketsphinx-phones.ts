/**
 * A rough CMU-phone spelling of an out-of-dictionary word, letter by letter, so a `vocabulary` word
 * becomes recognizable at all. Returns undefined for words with no letters.
 */
export function guessPhones(word: string): string | undefined {
  const map: Record<string, string> = {
    a: 'AE', b: 'B', c: 'K', d: 'D', e: 'EH', f: 'F', g: 'G', h: 'HH', i: 'IH', j: 'JH', k: 'K', l: 'L', m: 'M',
    n: 'N', o: 'AA', p: 'P', q: 'K', r: 'R', s: 'S', t: 'T', u: 'AH', v: 'V', w: 'W', x: 'K S', y: 'Y', z: 'Z',
  };
  const digraphs: Record<string, string> = { ch: 'CH', sh: 'SH', th: 'TH', ph: 'F', ng: 'NG', ee: 'IY', oo: 'UW', ck: 'K' };
  const letters = word.toLowerCase().replace(/[^a-z]/g, '');
  const phones: string[] = [];
  for (let i = 0; i < letters.length; i++) {
    const pair = letters.slice(i, i + 2);
    const d = digraphs[pair];
    if (d) {
      phones.push(d);
      i++;
      continue;
    }
    const p = map[letters[i] ?? ''];
    if (p && phones[phones.length - 1] !== p) phones.push(p);
  }
  return phones.length > 0 ? phones.join(' ') : undefined;
}
