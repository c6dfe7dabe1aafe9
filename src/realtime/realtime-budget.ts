import fs from 'node:fs';
import { resample } from '../audio/resampler.js';
import { readWav } from '../audio/wav.js';
import { synthesizePcm } from '../pipeline/translate-speak.js';
import type { Engines } from '../providers/registry.js';
import type { SttProvider, SttStats } from '../providers/stt/types.js';
import type { RoutedStt } from '../providers/routing/routed-stt.js';

/** Settings of a process's real-time budget (docs/deploy.md "Capacity"). */
export interface RealtimeBudgetSettings {
  /** CPU cores the process may use (`TOLK_CPU_CORES`, default: the cores Node sees). */
  cores: number;
  /** Fraction of those cores the streams may take, (0, 1] (`TOLK_TARGET_UTILISATION`, default 0.8). */
  targetUtilisation: number;
  /** Hard upper bound on streams whatever they cost (`TOLK_MAX_STREAMS`). */
  maxStreams: number;
}

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
}

/** The process's CPU time, user + system, in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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

  /**
   * @param settings - cores, target utilisation and the hard bound.
   * @param meter - the counters the moving estimate is read from.
   * @param options.windowAudioMs - audio a measurement window needs, in ms (default 5000).
   * @param options.smoothing - weight of a new window in the moving estimate, (0, 1] (default 0.3).
   */
  constructor(
    readonly settings: RealtimeBudgetSettings,
    private readonly meter: CostMeter,
    private readonly options: { windowAudioMs?: number; smoothing?: number } = {},
  ) {
    this.last = this.read();
  }

  /** CPU seconds per second the streams may use. */
  get budgetCpu(): number {
    return this.settings.cores * this.settings.targetUtilisation;
  }

  /** Streams that fit now (at least 1 while the bound allows any). */
  get capacity(): number {
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
   * Why one more stream would be refused now, or undefined when it fits. Counts nothing.
   * @param load - streams the process runs now.
   */
  refusal(load: number): string | undefined {
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
    return { budgetCpu: this.budgetCpu, costPerAudioS: this.cost, capacity, load, refused: this.refusedCount, shed: this.shedCount };
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

/** The meter of a process's recognizer: process CPU time against the audio the recognizer decoded. */
export function sttCostMeter(stt: SttProvider): CostMeter {
  return {
    cpuMs: processCpuMs, audioMs: () => stt.stats?.().audioMs ?? 0,
    otherWork: () => stt.stats?.().loads ?? 0, busyWithOtherWork: () => (stt.stats?.().loading ?? 0) > 0,
  };
}

/** The LibriVox recording (Debian's `pocketsphinx-testdata`, installed with the engines) the calibration decodes. */
export const CALIBRATION_RECORDING = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

const calibrations = new WeakMap<SttProvider, Promise<number | undefined>>();

/**
 * Measures the recognizer's CPU cost per second of audio at start-up (once per recognizer): a
 * stream decodes {@link CALIBRATION_RECORDING} (7.1 s of read speech), or speech synthesized by
 * the TTS engine when the recording is not installed, pushed in 100 ms blocks as fast as the
 * recognizer takes them; the cost is the process's CPU time over the audio's duration.
 * @returns CPU seconds per audio second; undefined for engines without statistics (fakes) or when
 *   no speech could be had or decoded.
 */
export function calibrateSttCost(engines: Engines): Promise<number | undefined> {
  let run = calibrations.get(engines.stt);
  if (!run) {
    run = measureSttCost(engines).catch(() => undefined);
    calibrations.set(engines.stt, run);
  }
  return run;
}

/**
 * Loads recognizers in the background until as many are idle as the budget admits streams (each
 * engine keeps at most its `idleDecoders`), so streams that start together on a freshly started
 * process do not each wait for a recognizer to load (~1 s of CPU each). Failures are left to the
 * stream that needs a recognizer (it reports them).
 */
export function prewarmForCapacity(engines: Engines, budget: RealtimeBudget): void {
  const stt = engines.stt as Partial<{ prewarm(count: number): Promise<void> }>;
  stt.prewarm?.call(engines.stt, budget.capacity).catch(() => undefined);
}

/**
 * The recognizer whose cost is this process's: `engines.stt` itself when it runs in process, else
 * (a router) the first in-process engine it routes English (or any language) to. Remote engines are
 * never calibrated: a start-up request to them would cost their server, not this process.
 */
function inProcessRecognizer(stt: SttProvider): SttProvider | undefined {
  if (stt.capabilities.inProcess) return stt;
  const router = stt as Partial<Pick<RoutedStt, 'order'>>;
  if (!router.order) return undefined;
  const languages = ['en', ...stt.capabilities.languages];
  for (const language of languages) {
    const local = router.order(language).find((e) => e.provider.capabilities.inProcess);
    if (local) return local.provider;
  }
  return undefined;
}

async function measureSttCost(engines: Engines): Promise<number | undefined> {
  const stt = inProcessRecognizer(engines.stt);
  if (!stt?.stats) return undefined;
  const stats = stt.stats.bind(stt);
  const speech = await calibrationSpeech(engines, stt.capabilities.sampleRateHz);
  if (!speech || speech.length === 0) return undefined;
  const language = stt.capabilities.languages.includes('en') ? 'en-US' : `${stt.capabilities.languages[0] ?? 'en'}`;
  // Opening may start loading a spare recognizer: its CPU is not decoding, so the measurement
  // waits for loads to finish and is taken again when one started meanwhile (at most 3 times).
  for (let attempt = 0; attempt < 3; attempt++) {
    const stream = await stt.open({ language, internal: true });
    const reading = (async () => {
      for await (const t of stream) void t; // transcripts are not needed
    })();
    await loadsSettled(stats);
    const loadsBefore = stats().loads ?? 0;
    const before = processCpuMs();
    const block = stt.capabilities.sampleRateHz / 10;
    for (let i = 0; i < speech.length; i += block) stream.push(speech.subarray(i, i + block));
    await stream.flush();
    const cpuMs = processCpuMs() - before;
    await stream.close();
    await reading;
    const s = stats();
    if ((s.loads ?? 0) === loadsBefore && !(s.loading ?? 0)) return cpuMs / ((speech.length * 1000) / stt.capabilities.sampleRateHz);
  }
  return undefined;
}

/** Waits (at most 30 s) until the recognizer loads nothing. */
async function loadsSettled(stats: () => SttStats): Promise<void> {
  for (let waited = 0; (stats().loading ?? 0) > 0 && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
}

async function calibrationSpeech(engines: Engines, rate: number): Promise<Int16Array | undefined> {
  if (fs.existsSync(CALIBRATION_RECORDING)) {
    const { samples, sampleRateHz } = readWav(fs.readFileSync(CALIBRATION_RECORDING));
    return resample(samples, sampleRateHz, rate);
  }
  const blocks: Buffer[] = [];
  for await (const pcm of synthesizePcm(engines.tts, CALIBRATION_TEXT, { language: 'en', voice: 'female', sampleRateHz: rate })) blocks.push(pcm);
  const bytes = Buffer.concat(blocks);
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2)).slice();
}

/** What the TTS engine says for the calibration when the LibriVox recording is not installed. */
const CALIBRATION_TEXT =
  'And mister John Dashwood had then leisure to consider how much there might be prudently in his power to do for them.';
