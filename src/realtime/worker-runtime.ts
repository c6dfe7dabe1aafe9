import type { FastifyBaseLogger } from 'fastify';
import { audioProblem } from '../audio/pcm.js';
import { isLanguageTag } from '../common/language-tags.js';
import type { TolkMetrics } from '../metrics.js';
import { checkLanguages, type Engines } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import type { Leg2Config } from './leg2-protocol.js';
import type { RealtimeBudget } from './realtime-budget.js';
import { leg2ConfigProblem, WorkerStream, type WorkerStreamOutput } from './worker-stream.js';
import type { StreamSettings } from './stream-settings.js';

/** A stream a worker holds (its transport's connection): what a worker's shutdown drains or ends. */
export interface HeldWorkerStream {
  /** Finishes the utterance in flight for at most `timeoutMs`, then ends with 1001. */
  drain(timeoutMs: number): Promise<void>;
  /** Ends at once (idempotent). */
  shutdown(): Promise<void>;
}

/** What a worker process shares between its streams (docs/architecture.md "Processes", role `worker`). */
export interface WorkerRuntime {
  /** `wrk_…`, sent in each `ack`. */
  readonly workerId: string;
  readonly engines: Engines;
  readonly metrics: TolkMetrics;
  /** Streams accepted (counted from the config until the stream ends). */
  readonly streams: Set<HeldWorkerStream>;
  /**
   * Endpointing settings, in ms; the inbound message limit and outbound buffer limit, in bytes;
   * `TOLK_MAX_STREAMS`; the backlog behind real time at which a stream is shed, in ms (`TOLK_MAX_BACKLOG_MS`).
   */
  readonly settings: StreamSettings;
  /** The worker's real-time budget (docs/deploy.md "Capacity"): what its registry entry announces as capacity. */
  readonly budget: RealtimeBudget;
  /** True once the worker shuts down: new streams are refused with 429. */
  draining: boolean;
  /** The number of streams changed (the heartbeat announces it at once). */
  loadChanged(): void;
}

/** The answer of {@link openWorkerStream}: the running stream, or why the worker refuses it. */
export type OpenWorkerStreamResult =
  | { ok: true; stream: WorkerStream }
  | { ok: false; status: 400 | 429 | 500; description: string };

/**
 * Why this worker cannot run a leg-2 config (it checks again what the gateway checked, because it
 * owns the engines): audio, language tags, voice, providers and the language pair.
 * @returns the description for a 400 `error` event, or undefined.
 */
export function workerConfigProblem(engines: Engines, c: Leg2Config): string | undefined {
  const audio = audioProblem(c.audio);
  if (audio) return audio;
  if (!isLanguageTag(c.source_lang) || !isLanguageTag(c.target_lang)) return `Invalid language tags "${c.source_lang}" → "${c.target_lang}"`;
  if (c.tts.voice.id !== 'male' && c.tts.voice.id !== 'female') return `Invalid voice "${c.tts.voice.id}": use "male" or "female"`;
  const providers = leg2ConfigProblem(engines, c);
  if (providers) return providers;
  const check = checkLanguages(engines, c.source_lang, c.target_lang, c.tts.voice.id as VoiceName);
  return check.ok ? undefined : check.description;
}

/**
 * The worker's stream service (spec 002 Part 3, the worker side): checks the config, refuses when
 * the worker is shutting down or its real-time budget is spent (or it holds `TOLK_MAX_STREAMS`;
 * 429: the gateway tries another worker),
 * counts the stream in `rt.streams` as `holder`, and starts its pipeline. The transport (leg 2's
 * socket) then sends the `ack` and maps frames to the stream. The caller removes `holder` from
 * `rt.streams` (and calls `rt.loadChanged()`) when the stream ends.
 * @returns the running stream, or the refusal (500 when the recognizer could not start; logged).
 */
export async function openWorkerStream(
  rt: WorkerRuntime, config: Leg2Config, holder: HeldWorkerStream, output: WorkerStreamOutput, log: FastifyBaseLogger,
): Promise<OpenWorkerStreamResult> {
  const problem = workerConfigProblem(rt.engines, config);
  if (problem) return { ok: false, status: 400, description: problem };
  if (rt.draining) return { ok: false, status: 429, description: 'This worker is shutting down' };
  const admitted = rt.budget.admit(rt.streams.size);
  if (!admitted.ok) return { ok: false, status: 429, description: `This worker is at capacity: ${admitted.description}` };
  const shortage = rt.budget.recognizerShortage(opening.get(rt) ?? 0);
  if (shortage) return { ok: false, status: 429, description: `This worker is at capacity: ${shortage}` };
  rt.streams.add(holder);
  rt.loadChanged();
  const stream = new WorkerStream(rt.engines, config, {
    endpointSilenceMs: rt.settings.endpointSilenceMs, maxUtteranceMs: rt.settings.maxUtteranceMs, vad: rt.settings.vad,
    maxBacklogMs: rt.settings.maxBacklogMs, onShed: () => rt.budget.streamShed(),
    onStarted: (vad) => rt.metrics.vadStreamStarted(vad),
    onUtteranceEnd: (e) => rt.metrics.observeUtterance(e.latency),
    onFailure: (err) => log.error({ err, requestId: config.request_id }, 'pipeline failed'),
  }, output);
  opening.set(rt, (opening.get(rt) ?? 0) + 1);
  try {
    await stream.start();
  } catch (err) {
    log.error({ err }, 'pipeline start failed');
    return { ok: false, status: 500, description: 'Server failed to start the speech pipeline' };
  } finally {
    opening.set(rt, (opening.get(rt) ?? 1) - 1);
  }
  return { ok: true, stream };
}

/** Streams of a worker opening their pipeline now (not yet holding a recognizer). */
const opening = new WeakMap<WorkerRuntime, number>();
