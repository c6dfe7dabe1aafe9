import type { TolkConfig } from '../config.js';
import { supportedPairs, type Engines } from '../providers/registry.js';
import { residentMb } from '../providers/stt/resident-memory.js';
import { calibrateSttCost, inProcessRecognizer } from './realtime-calibration.js';
import { RealtimeBudget, sttCostMeter, type MemoryMeter } from './realtime-budget.js';

/** What a process waits for before it serves streams, as `/api/health/ready` names it. */
export const WARM_UP_STEPS = {
  recognizer: 'a loaded speech recognizer',
  translators: 'the translation engines',
  cost: "the measurement of the recognizer's CPU cost",
  burst: 'speech recognizers for a burst of streams',
} as const;

/**
 * Recognizers loaded at start-up for streams that arrive together the moment the process is ready
 * (at most the capacity and `TOLK_STT_IDLE_DECODERS`); unused, they are freed 30 s later down to the
 * warm reserve of one (docs/deploy.md "Memory").
 */
export const STARTUP_BURST_RECOGNIZERS = 6;

/**
 * The real-time budget of a process that runs pipelines (roles `all` and `worker`): its CPU budget
 * from `config.capacity` and `TOLK_MAX_STREAMS`, its memory budget (`TOLK_MEMORY_BUDGET_MB`) read
 * from the process's resident memory and the in-process recognizer's measured size. It starts
 * warming up ({@link warmUp} makes it ready).
 * @param ownsEngines - whether the process started its engines: only then does it refuse streams
 *   that would wait for recognizers to load (engines shared from outside, in tests, are sized by
 *   their owner).
 */
export function processBudget(config: TolkConfig, engines: Engines, ownsEngines: boolean): RealtimeBudget {
  const local = inProcessRecognizer(engines.stt);
  const growable = local as Partial<{ loadAhead(): void }> | undefined;
  const memory: MemoryMeter | undefined = local?.stats?.().idle !== undefined
    ? {
      residentMb, mbPerStream: () => local.stats?.().mbPerRecognizer ?? 0, readyRecognizers: () => local.stats?.().idle ?? 0,
      ...(ownsEngines ? { loadingRecognizers: () => local.stats?.().loading ?? 0, loadAhead: () => growable?.loadAhead?.() } : {}),
    }
    : undefined;
  const budget = new RealtimeBudget({ ...config.capacity, maxStreams: config.maxStreams }, sttCostMeter(engines.stt), { memory });
  budget.warming(Object.values(WARM_UP_STEPS));
  return budget;
}

/**
 * The start-up work that runs after the process listens (docs/deploy.md "Readiness"): loads a
 * recognizer and the translation pairs (when the process owns its engines), measures the
 * recognizer's cost, loads recognizers for a burst of {@link STARTUP_BURST_RECOGNIZERS} streams (at
 * most the capacity), and marks each step done on `budget` — streams are refused with
 * "try again in 2 s" until all are. A step that fails is logged and counted done: the streams that
 * need it report the error themselves.
 * @param ownsEngines - false for engines shared from outside (tests): their owner loaded them.
 */
export async function warmUp(engines: Engines, budget: RealtimeBudget, ownsEngines: boolean, log: (err: unknown, what: string) => void): Promise<void> {
  const step = async (what: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      log(err, what);
    }
    budget.warmedUp(what);
  };
  const stt = engines.stt as Partial<{ prewarm(count: number): Promise<void> }>;
  const pairs = supportedPairs(engines).filter((p) => p.source !== p.target);
  await Promise.all([
    step(WARM_UP_STEPS.translators, async () => (ownsEngines ? engines.mt.prewarm(pairs) : undefined)),
    (async () => {
      await step(WARM_UP_STEPS.recognizer, async () => (ownsEngines ? stt.prewarm?.call(engines.stt, 1) : undefined));
      await step(WARM_UP_STEPS.cost, async () => budget.calibrated((await calibrateSttCost(engines)) ?? 0));
      const burst = Math.min(STARTUP_BURST_RECOGNIZERS, budget.settings.maxStreams, Math.max(1, Math.floor(budget.budgetCpu / (budget.report(0).costPerAudioS ?? 1))));
      await step(WARM_UP_STEPS.burst, async () => (ownsEngines ? stt.prewarm?.call(engines.stt, burst) : undefined));
    })(),
  ]);
}
