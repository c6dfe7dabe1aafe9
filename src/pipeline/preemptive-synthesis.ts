/**
 * Preemptive synthesis (docs/stream-protocol.md "Preemptive synthesis"): when the speaker pauses
 * briefly inside an utterance, its current hypothesis is translated and synthesized while the
 * endpointer still waits; the result is held, never sent, until the utterance's final commits the
 * same text (then it goes out at once) or is discarded (speech resumed, or another final).
 */

/** The values of `TOLK_PREEMPTIVE` (docs/deploy.md): preemptive synthesis is `on` by default. */
export const PREEMPTIVE_VALUES = ['on', 'off'] as const;

/** Silence inside an utterance that starts a speculation, in ms (the endpoint waits 300 by default). */
export const DEFAULT_PREEMPTIVE_PAUSE_MS = 120;

/**
 * Whether streams synthesize preemptively when their options do not say: `TOLK_PREEMPTIVE`
 * (`on`, the default, or `off`; docs/deploy.md). The server validates the value at start (src/config.ts).
 */
export function preemptiveFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TOLK_PREEMPTIVE?.trim().toLowerCase() !== 'off';
}

/** A translation and its synthesized speech (s16le blocks at the pipeline's egress rate). */
export interface SpokenTranslation {
  translation: string;
  pcm: Buffer[];
}

/** Process-wide counts of speculations, for `/metrics` and the real-time budget. */
export interface PreemptionStats {
  /** Speculations started. */
  started: number;
  /** Speculations whose result went out (the final said the same text). */
  used: number;
  /** Speculations thrown away (speech resumed, another final, an engine failure, the stream closed). */
  discarded: number;
  /**
   * Wall time the MT and TTS engines spent on discarded speculations, in ms: work the stream's
   * audio did not need, which the real-time budget adds to its measured cost (src/realtime/realtime-budget.ts).
   */
  discardedEngineMs: number;
}

const stats: PreemptionStats = { started: 0, used: 0, discarded: 0, discardedEngineMs: 0 };

/** A copy of the process's {@link PreemptionStats} since start. */
export function preemptionStats(): PreemptionStats {
  return { ...stats };
}

interface Speculation {
  utteranceId: string;
  text: string;
  startedAtMs: number;
  /** Engine wall time once the work settled, in ms. */
  engineMs: number | undefined;
  /** `held` until the final takes it (`taken`) or it is thrown away (`discarded`). */
  state: 'held' | 'taken' | 'discarded';
  result: Promise<SpokenTranslation | undefined>;
}

/**
 * One stream's speculation: at most one at a time (a newer pause replaces the older one). `run`
 * does the MT and TTS work (off the event loop, in the engines' processes) and must not emit
 * anything: its result is only returned by {@link Preemption.take}.
 */
export class Preemption {
  private current: Speculation | undefined;

  constructor(private readonly run: (text: string) => Promise<SpokenTranslation>) {}

  /** Whether a speculation of `text` for `utteranceId` is already held or in flight. */
  holds(utteranceId: string, text: string): boolean {
    return this.current?.utteranceId === utteranceId && this.current.text === text;
  }

  /** Starts speculating `text` for `utteranceId`, discarding any other speculation. */
  speculate(utteranceId: string, text: string): void {
    if (this.holds(utteranceId, text)) return;
    this.discard();
    stats.started++;
    const s: Speculation = { utteranceId, text, startedAtMs: performance.now(), engineMs: undefined, state: 'held', result: Promise.resolve(undefined) };
    // A failed speculation is discarded; the final is then translated as usual.
    s.result = this.run(text).catch(() => undefined).then((spoken) => this.settled(s, spoken));
    this.current = s;
  }

  /**
   * The speculation for the final of `utteranceId` when it spoke the same `text`; resolves with
   * undefined when it failed (the caller then translates as usual). Any other speculation of that
   * utterance is discarded.
   */
  take(utteranceId: string, text: string): Promise<SpokenTranslation | undefined> | undefined {
    const s = this.current;
    if (!s || s.utteranceId !== utteranceId || s.text !== text) {
      if (s?.utteranceId === utteranceId) this.discard();
      return undefined;
    }
    this.current = undefined;
    s.state = 'taken';
    stats.used++;
    return s.result;
  }

  /** Drops the speculation (speech resumed, the stream ends); its result is never sent. */
  discard(): void {
    const s = this.current;
    this.current = undefined;
    if (!s || s.state !== 'held') return;
    s.state = 'discarded';
    stats.discarded++;
    if (s.engineMs !== undefined) stats.discardedEngineMs += s.engineMs;
  }

  private settled(s: Speculation, spoken: SpokenTranslation | undefined): SpokenTranslation | undefined {
    s.engineMs = performance.now() - s.startedAtMs;
    if (s.state === 'discarded') {
      stats.discardedEngineMs += s.engineMs; // discarded while in flight: its work is counted now
      return undefined;
    }
    if (spoken) return spoken;
    if (s.state === 'taken') stats.used--;
    s.state = 'discarded';
    stats.discarded++;
    stats.discardedEngineMs += s.engineMs;
    if (this.current === s) this.current = undefined;
    return undefined;
  }
}
