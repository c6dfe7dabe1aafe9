import { callSlow, loadLib } from './pocketsphinx-lib.js';

/** Filler words of the en-us model, left out of the mean: silence, sentence marks, noises. */
function isFiller(word: string): boolean {
  return word === '<s>' || word === '</s>' || word === '<sil>' || /^\[.*\]$/.test(word) || /^\+\+.*\+\+$/.test(word);
}

/**
 * The confidence of the utterance just ended on `decoder` (after `ps_end_utt`), in 0..1: the mean
 * posterior probability of the words on the best path of the utterance's word lattice. Tolk decodes
 * in a single pass (no `-bestpath` rescoring), so this is a second pass over the lattice the search
 * left: `ps_get_lattice`, `ps_lattice_bestpath` and `ps_lattice_posterior` (off the event loop),
 * then the words' posteriors. Measured on the LibriVox recordings: 1–3 ms of CPU against 390–980 ms
 * for decoding them; real speech scores 0.66–0.92, reversed speech and German 0.43–0.55.
 *
 * Undefined when there is nothing to score, and for one-word hypotheses: a lattice with one word
 * has no competitor, so noise decoded as "see" scores 1.0 (docs/intelligence.md).
 */
export async function hypothesisConfidence(decoder: number): Promise<number | undefined> {
  const l = loadLib();
  const dag = await callSlow<number>('psGetLattice', decoder);
  if (!dag) return undefined;
  const lmset = l.psGetLm(decoder, l.psGetSearch(decoder) ?? '');
  const ascale = 1 / l.cmdLnFloat(l.psGetConfig(decoder), '-ascale');
  const lwf = 1.0; // the single-pass search's own language weight
  const last = await callSlow<number>('psLatticeBestpath', dag, lmset, lwf, ascale);
  if (!last) return undefined;
  await callSlow<number>('psLatticePosterior', dag, lmset, ascale);
  const lmath = l.psGetLogmath(decoder);
  const posteriors: number[] = [];
  for (let seg = l.psLatticeSegIter(dag, last, lwf); seg; seg = l.psSegNext(seg)) {
    const word = l.psSegWord(seg) ?? '';
    if (!isFiller(word)) posteriors.push(Math.min(1, l.logmathExp(lmath, l.psSegProb(seg, [0], [0], [0]))));
  }
  if (posteriors.length < 2) return undefined;
  return posteriors.reduce((a, b) => a + b, 0) / posteriors.length;
}
