import type { LanguagePair, MtCapabilities, MtProvider, MtText } from '../mt/types.js';
import { NO_SIMULATED_TIME, type SimulatedTime } from './simulated-time.js';

/** One `translate` call, as the fake received it. */
export interface FakeMtCall {
  input: MtText;
  pair: LanguagePair;
}

/** Settings of a {@link FakeMt}. */
export interface FakeMtOptions {
  /** Engine name (leg-2 `translator.provider`); default `fake-mt`. */
  name?: string;
  /** Pairs it translates; default `en`↔`es`, `en`↔`fr`, `en`↔`de`. */
  pairs?: readonly LanguagePair[];
  /**
   * Turns one plain run of the input into the target language; default: unchanged. The whole
   * output is prefixed with `[target] `, so `hello` → `[es] hello`.
   */
  translateText?: (text: string, pair: LanguagePair) => string;
  /** Loses every glossary slot, as an engine that mangles its markup would (the glossary code must cope). */
  dropSlots?: boolean;
  /** The error a call rejects with, or undefined to succeed. */
  error?: (call: FakeMtCall) => Error | undefined;
  /** Simulated engine time of each call, in ms; default 0. */
  costMs?: number;
  /** Clock that `costMs` advances. */
  time?: SimulatedTime;
}

/** The default pairs of a {@link FakeMt}. */
export const FAKE_MT_PAIRS: readonly LanguagePair[] = ['es', 'fr', 'de'].flatMap((l) => [
  { source: 'en', target: l },
  { source: l, target: 'en' },
]);

/**
 * A deterministic {@link MtProvider} (docs/architecture.md "Engines", `providers/testing/`): `hello` becomes
 * `[es] hello`. Glossary slots come back in place, as Apertium returns its `[tolkslotN]`
 * superblanks untouched, so `translateWithGlossary` enforcement is testable. Every call is recorded.
 */
export class FakeMt implements MtProvider {
  readonly name: string;
  readonly capabilities: MtCapabilities;
  /** Every `translate` call, in order (failed ones included). */
  readonly calls: FakeMtCall[] = [];
  /** Pairs asked to `prewarm`, in order. */
  readonly prewarmed: LanguagePair[] = [];
  /** True after `close`. */
  closed = false;

  constructor(private readonly options: FakeMtOptions = {}) {
    this.name = options.name ?? 'fake-mt';
    this.capabilities = { pairs: options.pairs ?? FAKE_MT_PAIRS };
  }

  /** @throws {Error} when the pair is not in `capabilities.pairs`, or the configured `error`. */
  async translate(input: MtText, pair: LanguagePair): Promise<MtText> {
    const call = { input: [...input], pair: { ...pair } };
    this.calls.push(call);
    (this.options.time ?? NO_SIMULATED_TIME).advance(this.options.costMs ?? 0);
    if (!this.supports(pair)) throw new Error(`${this.name} has no ${pair.source}-${pair.target} pair`);
    const error = this.options.error?.(call);
    if (error) throw error;
    const translateText = this.options.translateText ?? ((text: string) => text);
    const out: Array<string | { slot: number }> = [`[${pair.target}] `];
    for (const part of input) {
      if (typeof part === 'string') out.push(translateText(part, pair));
      else if (!this.options.dropSlots) out.push({ slot: part.slot });
    }
    return out.filter((p) => typeof p !== 'string' || p.length > 0);
  }

  /** Number of `translate` calls into `target` (a primary subtag such as `es`). */
  callsTo(target: string): number {
    return this.calls.filter((c) => c.pair.target === target).length;
  }

  /** Records the pairs; nothing to start. */
  async prewarm(pairs: readonly LanguagePair[] = this.capabilities.pairs): Promise<void> {
    this.prewarmed.push(...pairs);
  }

  /** Marks the engine closed (`closed`). */
  async close(): Promise<void> {
    this.closed = true;
  }

  private supports(pair: LanguagePair): boolean {
    return this.capabilities.pairs.some((p) => p.source === pair.source && p.target === pair.target);
  }
}
