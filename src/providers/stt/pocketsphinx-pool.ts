/**
 * Idle pocketsphinx decoders between streams, each tagged with the vocabulary added to it (the empty
 * key for a decoder with the model's dictionary only). A stream with a vocabulary takes a decoder
 * that already has exactly that vocabulary when one is idle, so an organization's glossary words are
 * added once per decoder, not once per stream. Least recently used decoders are freed first when the
 * pool is full.
 */
export class DecoderPool {
  /** Oldest first. */
  private readonly idle: Array<{ decoder: unknown; vocabularyKey: string }> = [];

  /**
   * @param maxIdle - decoders kept loaded at most.
   * @param free - releases a decoder's native memory (`ps_free`).
   */
  constructor(private readonly maxIdle: number, private readonly free: (decoder: unknown) => void) {}

  /** Idle decoders with the model's dictionary only. */
  get plainCount(): number {
    return this.idle.filter((d) => d.vocabularyKey === '').length;
  }

  /** All idle decoders. */
  get size(): number {
    return this.idle.length;
  }

  /** Takes the most recently used idle decoder whose vocabulary key is `vocabularyKey`, if any. */
  take(vocabularyKey: string): unknown {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (this.idle[i]?.vocabularyKey === vocabularyKey) return this.idle.splice(i, 1)[0]?.decoder;
    }
    return undefined;
  }

  /** Returns a decoder to the pool; frees the least recently used one when the pool is full. */
  put(decoder: unknown, vocabularyKey: string): void {
    if (this.maxIdle <= 0) {
      this.free(decoder);
      return;
    }
    this.idle.push({ decoder, vocabularyKey });
    while (this.idle.length > this.maxIdle) {
      const evicted = this.idle.shift();
      if (evicted) this.free(evicted.decoder);
    }
  }

  /** Frees the least recently used idle decoders until at most `keep` remain. */
  trim(keep: number): void {
    while (this.idle.length > Math.max(0, keep)) {
      const evicted = this.idle.shift();
      if (evicted) this.free(evicted.decoder);
    }
  }

  /** Frees every idle decoder. */
  clear(): void {
    for (const d of this.idle.splice(0)) this.free(d.decoder);
  }
}

/**
 * The vocabulary key of a stream: its words lower-cased, deduplicated and sorted, one per line.
 * Streams with the same words share decoders.
 */
export function vocabularyKey(words: readonly string[]): string {
  return [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))].sort().join('\n');
}
