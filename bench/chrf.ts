/**
 * chrF (Popović 2015, "chrF: character n-gram F-score for automatic MT evaluation", WMT): the
 * F-score of character n-grams, n = 1…6, precision and recall averaged over n, recall weighted
 * β = 2. White space is removed before counting, as in the paper and sacreBLEU's default chrF
 * (word n-grams off, i.e. chrF, not chrF++). Corpus-level: n-gram counts are summed over all
 * segment pairs before the score. Score in 0..100.
 */

const MAX_N = 6;
const BETA = 2;

function ngrams(text: string, n: number): Map<string, number> {
  const chars = [...text.replace(/\s+/g, '')];
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('');
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}

/**
 * chrF of `hypotheses` against `references` (pairs in order), in 0..100.
 * @throws {Error} when the lists differ in length.
 */
export function chrF(hypotheses: readonly string[], references: readonly string[]): number {
  if (hypotheses.length !== references.length) throw new Error(`chrF: ${hypotheses.length} hypotheses for ${references.length} references`);
  let precisionSum = 0;
  let recallSum = 0;
  let orders = 0;
  for (let n = 1; n <= MAX_N; n++) {
    let matched = 0;
    let hypTotal = 0;
    let refTotal = 0;
    hypotheses.forEach((hyp, i) => {
      const h = ngrams(hyp, n);
      const r = ngrams(references[i] ?? '', n);
      for (const [g, c] of h) matched += Math.min(c, r.get(g) ?? 0);
      for (const c of h.values()) hypTotal += c;
      for (const c of r.values()) refTotal += c;
    });
    if (hypTotal === 0 && refTotal === 0) continue;
    precisionSum += hypTotal > 0 ? matched / hypTotal : 0;
    recallSum += refTotal > 0 ? matched / refTotal : 0;
    orders++;
  }
  if (orders === 0) return 100;
  const p = precisionSum / orders;
  const r = recallSum / orders;
  if (p + r === 0) return 0;
  return (100 * (1 + BETA ** 2) * p * r) / (BETA ** 2 * p + r);
}

// Self-check on a hand-computed case: identical texts score 100, disjoint ones 0.
if (process.argv[1]?.endsWith('chrf.ts')) {
  console.log(chrF(['el gato'], ['el gato']).toFixed(1), chrF(['abc'], ['xyz']).toFixed(1), chrF(['el gato negro'], ['el gato']).toFixed(1));
}
