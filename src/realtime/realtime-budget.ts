import { preemptionStats } from '../pipeline/preemptive-synthesis.js';
import type { SttProvider } from '../providers/stt/types.js';
import { inProcessRecognizer, processCpuMs } from './realtime-calibration.js';

export { CALIBRATION_RECORDING, calibrateSttCost, processCpuMs } from './realtime-calibration.js';

/** Settings of a process's real-time budget (docs/deploy.md "Capacity"). */
export interface RealtimeBudgetSettings {
  /** CPU cores the process may use (`TOLK_CPU_CORES`, default: the cores Node sees). */
  cores: number;
  /** Fraction of those cores the streams may take, (0, 1] (`TOLK_TARGET_UTILISATION`, default 0.8). */
  targetUtilisation: number;
  /** Hard upper bound on streams whatever they cost (`TOLK_MAX_STREAMS`). */
  maxStreams: number;
  /**
   * Resident memory the process may grow to, in MB (`TOLK_MEMORY_BUDGET_MB`; docs/deploy.md
   * "Memory"): a stream that needs a new recognizer is refused when loading one would pass it.
   * Unset: no memory bound.
   */
  memoryBudgetMb?: number | undefined;
}

/** What the memory budget reads: the process's resident memory and what one more recognizer adds. */
export interface MemoryMeter {
  /** The process's resident memory now, in MB; undefined where it cannot be read. */
  residentMb(): number | undefined;
  /** Resident memory one more recognizer adds, in MB (measured by the engine). */
  mbPerStream(): number;
  /** Recognizers loaded and idle: a stream that takes one adds no memory. */
  readyRecognizers(): number;
  /** Recognizers being loaded now. */
  loadingRecognizers?(): number;
  /** Starts loading one more recognizer in the background (for a stream refused until it is there). */
  loadAhead?(): void;
}

/**
 * Streams that may wait for a recognizer to be loaded for them at once (~0.7 CPU s each): more
 * arriving together than idle recognizers plus these are refused at once and retry (docs/deploy.md
 * "Memory").
 */
export const MAX_STREAMS_WAITING_FOR_A_RECOGNIZER = 1;

/** How long a client refused during warm-up is told to wait, in s (`Retry-After`). */
export const WARM_UP_RETRY_AFTER_S = 2;

/** Cumulative counters the cost is measured from: process CPU time and audio decoded, both in ms. */
export interface CostMeter {
  cpuMs(): number;
  audioMs(): number;
  /**
   * A count of work started that is not decoding (loading a recognizer): windows in which it
   * changed, or in which such work is in progress ({@link CostMeter.busyWithOtherWork}), are skipped.
   */
  otherWork?(): number;
  /** Whether such work is in progress now. */
  busyWithOtherWork?(): boolean;
}

/** What `/metrics` and the worker registry show of a budget. */
export interface CapacityReport {
  /** CPU seconds per second the streams may use: cores × target utilisation. */
  budgetCpu: number;
  /** Measured CPU seconds per second of audio of one stream; undefined before the first measurement. */
  costPerAudioS: number | undefined;
  /** Streams that fit now: ⌊budget ÷ cost⌋, at most `TOLK_MAX_STREAMS`. */
  capacity: number;
  /** Streams admitted and live. */
  load: number;
  /** Streams refused because the budget was spent (since start). */
  refused: number;
  /** Streams ended because they fell behind real time (since start). */
  shed: number;
  /** What the process still waits for before it serves streams (empty when ready). */
  waitingFor: string[];
}

/**
 * A process's real-time budget (docs/deploy.md "Capacity"): it runs streams while their expected
 * CPU cost fits in cores × target utilisation. A stream is expected to cost what one second of
 * audio costs the recognizer per second (a stream that speaks all the time), measured — at start-up
 * by {@link calibrateSttCost}, then as a moving average of the process's CPU time per second of
 * audio decoded, over windows of at least `windowAudioMs` of audio. `TOLK_MAX_STREAMS` stays a hard
 * bound. Engines that report no statistics (test fakes) cost nothing: the bound alone applies.
 */
export class RealtimeBudget {
  private cost: number | undefined;
  private refusedCount = 0;
  private shedCount = 0;
  private last: { cpuMs: number; audioMs: number; other: number };
  private waiting: string[] = [];

  /**
   * @param settings - cores, target utilisation and the hard bound.
   * @param meter - the counters the moving estimate is read from.
   * @param options.windowAudioMs - audio a measurement window needs, in ms (default 5000).
   * @param options.smoothing - weight of a new window in the moving estimate, (0, 1] (default 0.3).
   * @param options.memory - what the memory budget reads (without it, no memory bound).
   */
  constructor(
    readonly settings: RealtimeBudgetSettings,
    private readonly meter: CostMeter,
    private readonly options: { windowAudioMs?: number; smoothing?: number; memory?: MemoryMeter } = {},
  ) {
    this.last = this.read();
  }

  /** CPU seconds per second the streams may use. */
  get budgetCpu(): number {
    return this.settings.cores * this.settings.targetUtilisation;
  }

  /** Streams that fit now (at least 1 while the bound allows any; 0 while warming up). */
  get capacity(): number {
    if (this.waiting.length > 0) return 0;
    this.observe();
    const bound = this.settings.maxStreams;
    if (this.cost === undefined || this.cost <= 0) return bound;
    return Math.min(bound, Math.max(1, Math.floor(this.budgetCpu / this.cost + 1e-9)));
  }

  /** Sets the cost from a calibration, in CPU seconds per audio second (ignored when not positive). */
  calibrated(costPerAudioS: number): void {
    if (Number.isFinite(costPerAudioS) && costPerAudioS > 0) this.cost = costPerAudioS;
    this.last = this.read();
  }

  /**
   * Marks the process as warming up: until {@link RealtimeBudget.warmedUp} every stream is refused
   * at once (429, "try again in 2 s") instead of being admitted and starved while recognizers load
   * and the cost is measured.
   * @param waitingFor - what it waits for, as `/api/health/ready` shows it.
   */
  warming(waitingFor: readonly string[]): void {
    this.waiting = [...waitingFor];
  }

  /** Marks one thing waited for as done (the process is ready once nothing is left). */
  warmedUp(what?: string): void {
    this.waiting = what === undefined ? [] : this.waiting.filter((w) => w !== what);
  }

  /** What the process still waits for before it serves streams; empty when ready. */
  get waitingFor(): readonly string[] {
    return this.waiting;
  }

  /**
   * Why one more stream would be refused now, or undefined when it fits. Counts nothing.
   * @param load - streams the process runs now.
   */
  refusal(load: number): string | undefined {
    if (this.waiting.length > 0) {
      return `Max concurrent connections exceeded: this server is warming up (waiting for ${this.waiting.join(', ')}); try again in ${WARM_UP_RETRY_AFTER_S} s`;
    }
    const memory = this.memoryRefusal();
    if (memory) return memory;
    const capacity = this.capacity;
    if (load < capacity) return undefined;
    if (capacity >= this.settings.maxStreams) return `Max concurrent connections exceeded (${this.settings.maxStreams})`;
    const cost = (this.cost ?? 0).toFixed(2);
    return `Max concurrent connections exceeded: this server's real-time budget is spent (${load} streams at ${cost} CPU s per audio s on ${this.settings.cores} cores × ${this.settings.targetUtilisation}); try again shortly`;
  }

  /**
   * Decides whether one more stream may start (the caller then counts it in its load); a refusal
   * is counted in {@link CapacityReport.refused}.
   * @param load - streams the process runs now.
   * @returns the description of the 429 when it may not.
   */
  admit(load: number): { ok: true } | { ok: false; description: string } {
    const refusal = this.refusal(load);
    if (!refusal) return { ok: true };
    this.refusedCount++;
    return { ok: false, description: refusal };
  }

  /**
   * Why one more stream opening now would wait too long for its recognizer, or undefined: when the
   * streams already opening take every idle recognizer and {@link MAX_STREAMS_WAITING_FOR_A_RECOGNIZER}
   * loads, it is refused at once (429, "try again in 2 s") and one more recognizer is loaded in the
   * background for its retry — instead of being admitted to fall seconds behind its audio while
   * recognizers load. Counts nothing.
   * @param opening - streams admitted and opening their recognizer now (not yet holding one).
   */
  recognizerShortage(opening: number): string | undefined {
    const m = this.options.memory;
    if (!m?.loadingRecognizers) return undefined;
    if (opening < m.readyRecognizers() + MAX_STREAMS_WAITING_FOR_A_RECOGNIZER) return undefined;
    m.loadAhead?.();
    return `Max concurrent connections exceeded: this server is loading speech recognizers for the streams that just arrived; try again in ${WARM_UP_RETRY_AFTER_S} s`;
  }

  /** Why a stream needing a new recognizer would pass the memory budget, or undefined. */
  private memoryRefusal(): string | undefined {
    const budgetMb = this.settings.memoryBudgetMb;
    const m = this.options.memory;
    if (!budgetMb || !m || m.readyRecognizers() > 0) return undefined;
    const residentMb = m.residentMb();
    const needMb = m.mbPerStream();
    if (residentMb === undefined || residentMb + needMb <= budgetMb) return undefined;
    return `Max concurrent connections exceeded: this server's memory budget is spent (${Math.round(residentMb)} MB resident, a stream needs ~${Math.round(needMb)} MB more, TOLK_MEMORY_BUDGET_MB ${budgetMb}); try again shortly`;
  }

  /** Counts a stream ended for falling behind real time. */
  streamShed(): void {
    this.shedCount++;
  }

  /**
   * The numbers `/metrics` and the worker registry show.
   * @param load - streams the process runs now.
   */
  report(load: number): CapacityReport {
    const capacity = this.capacity;
    return { budgetCpu: this.budgetCpu, costPerAudioS: this.cost, capacity, load, refused: this.refusedCount, shed: this.shedCount, waitingFor: [...this.waiting] };
  }

  /** Takes a measurement window when enough audio was decoded since the last one. */
  observe(): void {
    const now = this.read();
    const audioMs = now.audioMs - this.last.audioMs;
    if (now.other !== this.last.other || this.meter.busyWithOtherWork?.()) {
      this.last = now; // a recognizer was loaded meanwhile: this window's CPU is not decoding
      return;
    }
    if (audioMs < (this.options.windowAudioMs ?? 5000)) return;
    const sample = (now.cpuMs - this.last.cpuMs) / audioMs;
    this.last = now;
    const a = this.options.smoothing ?? 0.3;
    this.cost = this.cost === undefined ? sample : this.cost * (1 - a) + sample * a;
  }

  private read(): { cpuMs: number; audioMs: number; other: number } {
    return { cpuMs: this.meter.cpuMs(), audioMs: this.meter.audioMs(), other: this.meter.otherWork?.() ?? 0 };
  }
}

/**
 * The meter of a process's live streams: the process's CPU time (every thread: the recognizer's,
 * the event loop's VAD and transport work) against the audio the recognizer decoded — CPU time,
 * not wall time, so other work on the machine does not count — skipping windows in which a
 * recognizer was loaded (that CPU is not the streams'). Speculative MT and TTS work that was thrown
 * away (preemptive synthesis, docs/stream-protocol.md) runs in the engines' child processes, which
 * the process's CPU time does not include: its engine time is added, so the streams' cost — and
 * so admission — counts it (an upper bound of its CPU time).
 */
export function sttCostMeter(stt: SttProvider): CostMeter {
  const local = inProcessRecognizer(stt) ?? stt;
  const stats = () => local.stats?.();
  return {
    cpuMs: () => processCpuMs() + preemptionStats().discardedEngineMs, audioMs: () => stats()?.audioMs ?? 0,
    otherWork: () => stats()?.loads ?? 0, busyWithOtherWork: () => (stats()?.loading ?? 0) > 0,
  };
}
