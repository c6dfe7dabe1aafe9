/**
 * Simultaneous mode (docs/stream-protocol.md "Simultaneous mode"): while a long utterance goes on,
 * the source words that are stable and end at a clause boundary are committed as a segment, which
 * the pipeline translates and speaks at once. A committed segment is never taken back: the
 * utterance's final transcript keeps the committed words as its prefix.
 *
 * Stable: the words two successive interim hypotheses agree on (local agreement, LA-2: their common
 * prefix). Clause boundary: a short pause in the VAD (everything stable is committed), the word
 * before a clause-opening word (a conjunction or a relative word, {@link CLAUSE_OPENERS}), or
 * {@link SegmentPolicy.maxSegmentWords} stable words without either.
 */

/** Words that open a clause the MT can translate on its own: a segment ends before them. */
export const CLAUSE_OPENERS: ReadonlySet<string> = new Set([
  'and', 'but', 'or', 'so', 'because', 'although', 'though', 'while', 'whereas', 'if', 'unless', 'when', 'whenever',
  'where', 'which', 'who', 'whom', 'whose', 'that', 'then', 'until', 'since', 'after', 'before', 'as', 'yet', 'nor',
]);

/** How segments are cut. */
export interface SegmentPolicy {
  /** Fewest words in a segment cut at a clause-opening word (shorter runs wait for more). */
  minSegmentWords: number;
  /** Stable words after which a segment is cut without a clause boundary. */
  maxSegmentWords: number;
}

/** Defaults measured with bench/simultaneous.ts (docs/stream-protocol.md "Simultaneous mode"). */
export const DEFAULT_SEGMENT_POLICY: SegmentPolicy = { minSegmentWords: 3, maxSegmentWords: 8 };

/** The words of a transcript, split on white space. */
export function transcriptWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** A word as compared: lower case, without the punctuation around it. */
function wordKey(word: string): string {
  return word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

/** How far (in words) a revised hypothesis may have moved the committed last two words and still realign. */
const REALIGN_PAIR_WORDS = 8;

/** Length of the common prefix of two word lists (words compared by {@link wordKey}). */
function commonPrefixLength(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && wordKey(a[n] ?? '') === wordKey(b[n] ?? '')) n++;
  return n;
}

/** The final of an utterance read against what was committed: see {@link SegmentCommitter.final}. */
export interface FinalAgainstCommitted {
  /** The final transcript with the committed words as its prefix. */
  transcript: string;
  /** The words of the final after the committed ones (still to be translated and spoken), joined. */
  remainder: string;
}

/**
 * One utterance's segmentation. Feed it every interim hypothesis ({@link hypothesis}) and the VAD's
 * pauses ({@link pause}); each returns the new segment to commit (words joined by one space), or
 * undefined. Pure: no engine calls, no timers.
 */
export class SegmentCommitter {
  private previous: string[] = [];
  private agreed: string[] = [];
  private readonly committed: string[] = [];

  constructor(private readonly policy: SegmentPolicy = DEFAULT_SEGMENT_POLICY) {}

  /** The committed words so far, joined by one space ('' before the first segment). */
  get committedText(): string {
    return this.committed.join(' ');
  }

  /** A new interim hypothesis of the whole utterance so far: the segment it makes stable, if any. */
  hypothesis(text: string): string | undefined {
    const words = transcriptWords(text);
    this.agreed = words.slice(0, commonPrefixLength(this.previous, words));
    this.previous = words;
    const candidate = this.uncommitted();
    if (!candidate) return undefined;
    const { minSegmentWords, maxSegmentWords } = this.policy;
    for (let i = candidate.length - 1; i >= minSegmentWords; i--) {
      if (CLAUSE_OPENERS.has(wordKey(candidate[i] ?? ''))) return this.commit(candidate.slice(0, i));
    }
    if (candidate.length >= maxSegmentWords) return this.commit(candidate.slice(0, maxSegmentWords));
    return undefined;
  }

  /** A short pause in the speech: every stable word not yet committed is a segment. */
  pause(): string | undefined {
    const candidate = this.uncommitted();
    return candidate && candidate.length > 0 ? this.commit(candidate) : undefined;
  }

  /**
   * The utterance's final `text` against the committed words: when the final does not start with
   * them (the recognizer revised a word already spoken), the committed words stay and the final
   * goes on after the position its words realign with them (the committed last word found within
   * three words of where it was, else after as many words as were committed).
   */
  final(text: string): FinalAgainstCommitted {
    const words = transcriptWords(text);
    if (this.committed.length === 0) return { transcript: text, remainder: text };
    const rest = words.slice(this.alignedCut(words) ?? Math.min(this.committed.length, words.length));
    return { transcript: [...this.committed, ...rest].join(' '), remainder: rest.join(' ') };
  }

  /**
   * Where the words after the committed ones start in `words` (a hypothesis of the whole
   * utterance): after the committed prefix when `words` starts with it; when it revised a committed
   * word, after the committed last two words found together within {@link REALIGN_PAIR_WORDS} words
   * of their place, else after the last one alone within three words; else undefined.
   */
  private alignedCut(words: readonly string[]): number | undefined {
    const n = this.committed.length;
    if (commonPrefixLength(this.committed, words) >= n) return n;
    const key = (i: number): string => wordKey(words[i] ?? '');
    const last = wordKey(this.committed[n - 1] ?? '');
    const before = n >= 2 ? wordKey(this.committed[n - 2] ?? '') : undefined;
    const near = (reach: number): number[] => Array.from({ length: 2 * reach + 1 }, (_, k) => n + (k % 2 === 0 ? k / 2 : -(k + 1) / 2))
      .filter((j) => j >= 1 && j <= words.length);
    const pair = before === undefined ? undefined : near(REALIGN_PAIR_WORDS).find((j) => j >= 2 && key(j - 1) === last && key(j - 2) === before);
    return pair ?? near(3).find((j) => key(j - 1) === last);
  }

  /**
   * The stable words after the committed ones (realigned as {@link alignedCut} says when the
   * hypotheses revised a committed word); undefined when there are none or they cannot be placed.
   */
  private uncommitted(): string[] | undefined {
    const cut = this.alignedCut(this.agreed);
    if (cut === undefined) return undefined;
    const rest = this.agreed.slice(cut);
    return rest.length > 0 ? rest : undefined;
  }

  private commit(words: string[]): string | undefined {
    if (words.length === 0) return undefined;
    this.committed.push(...words);
    return words.join(' ');
  }
}
