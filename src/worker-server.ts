import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildWorkerApp } from './api/worker/routes.js';
import type { HeldWorkerStream, WorkerRuntime } from './realtime/worker-runtime.js';
import { roleProblem, type TolkConfig } from './config.js';
import { TolkMetrics } from './metrics.js';
import { closeEngines, createEngines, type RoutedEngines } from './providers/index.js';
import { readEnginesConfig } from './providers/engine-config.js';
import type { Engines } from './providers/registry.js';
import { LEG2_PATH } from './realtime/leg2-protocol.js';
import { WorkerHeartbeat, WorkerRegistry, type WorkerEngine } from './state/worker-registry.js';
import { processBudget, warmUp } from './realtime/warm-up.js';
import { streamSettings } from './realtime/stream-settings.js';

/** A running worker process (role `worker`). */
export interface RunningWorker {
  app: FastifyInstance;
  /** `wrk_…` */
  workerId: string;
  /** Base HTTP URL, e.g. `http://127.0.0.1:8081` (`/api/health`, `/metrics`). */
  url: string;
  /** The leg-2 URL announced in the registry. */
  leg2Url: string;
  /** Live streams. */
  readonly streams: ReadonlySet<HeldWorkerStream>;
  /**
   * Settles when the start-up work after listening is done: until then the worker announces
   * capacity 0 and refuses leg 2 with 4429 (docs/deploy.md "Readiness"). Never rejects.
   */
  ready: Promise<void>;
  /**
   * Graceful stop: marks itself draining in the registry, lets every stream finish its utterance in
   * flight (at most `TOLK_DRAIN_TIMEOUT_MS`), closes leg 2 with 1001, removes its registry entry,
   * then releases engines and Redis.
   */
  close(): Promise<void>;
}

/** The leg-2 URL a worker announces: `TOLK_WORKER_URL`, or ws://<host>:<port>/internal/v1/leg2. */
export function announcedLeg2Url(config: TolkConfig, port: number): string {
  if (config.workerUrl) return config.workerUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? os.hostname() : config.host;
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}${LEG2_PATH}`;
}

/**
 * The engine instances a worker announces in the registry: those of its routing configuration, or
 * for engines given without one (tests), each provider's name as id and module name.
 */
export function announcedEngines(engines: Engines): WorkerEngine[] {
  const routed = (engines as Partial<RoutedEngines>).instances;
  if (routed) return routed.map((e) => ({ id: e.id, kind: e.kind, name: e.name }));
  return [
    { id: engines.stt.name, kind: 'stt', name: engines.stt.name },
    { id: engines.mt.name, kind: 'mt', name: engines.mt.name },
    { id: engines.tts.name, kind: 'tts', name: engines.tts.name },
  ];
}

/**
 * Starts a worker (docs/architecture.md "Processes", `tolk serve --role worker`): the engines, the leg-2 endpoint, and a
 * heartbeat that keeps its entry (id, URL, capacity, load) in the registry. Needs no database.
 * @param options.engines - engines to share (tests); created when omitted.
 * @param options.waitUntilReady - resolve only once the start-up work is done (default true).
 * @throws {Error} when `REDIS_URL` or `TOLK_WORKER_SECRET` is missing, Redis does not answer, or
 *   the engines or the port cannot be opened.
 */
export async function startWorker(config: TolkConfig, options: { engines?: Engines; waitUntilReady?: boolean } = {}): Promise<RunningWorker> {
  const problem = config.role === 'worker' ? roleProblem(config) : 'startWorker runs role worker';
  if (problem || !config.redisUrl || !config.workerSecret) throw new Error(problem ?? 'role worker needs REDIS_URL and TOLK_WORKER_SECRET');
  const ownsEngines = !options.engines;
  let metrics: TolkMetrics | undefined;
  const enginesClosing = new AbortController();
  const engines = options.engines ?? (await createEngines(readEnginesConfig(config.engines), {
    idleDecoders: config.sttIdleDecoders, prewarm: false, onRequest: (r) => metrics?.engineRequest(r), signal: enginesClosing.signal,
  }));
  const announced = announcedEngines(engines);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 2000 });
  redis.on('error', () => {}); // reported by the heartbeat
  const registry = new WorkerRegistry(redis);
  const workerId = `wrk_${randomBytes(8).toString('hex')}`;
  const streams = new Set<HeldWorkerStream>();
  // Warming up until after listening (warmUp below): capacity 0, leg 2 refused with 4429.
  const budget = processBudget(config, engines, ownsEngines);
  let leg2Url = '';
  const logger: { current?: FastifyBaseLogger } = {};
  const heartbeat = new WorkerHeartbeat(
    registry,
    () => {
      const c = budget.report(streams.size);
      return { id: workerId, url: leg2Url, capacity: c.capacity, load: streams.size, draining: rt.draining, costPerAudioS: c.costPerAudioS, refused: c.refused, shed: c.shed, engines: announced };
    },
    (err) => logger.current?.error({ err }, 'worker registry heartbeat failed (gateways stop sending streams here until it is back)'),
  );
  const rt: WorkerRuntime = {
    workerId, engines, streams, draining: false, budget,
    metrics: (metrics = new TolkMetrics({
      liveStreams: () => ({ leg2: streams.size }), maxStreams: config.maxStreams, stt: engines.stt, load: () => streams.size,
      capacity: () => budget.report(streams.size),
      workers: async () => (await registry.live()).map((w) => ({ id: w.id, load: w.load, capacity: w.capacity })),
    })),
    settings: streamSettings(config),
    loadChanged: () => void heartbeat.beat(),
  };
  const app = await buildWorkerApp(rt, {
    readiness: () => budget.waitingFor,
    logLevel: config.logLevel, secret: config.workerSecret, drainTimeoutMs: config.drainTimeoutMs, renderMetrics: () => rt.metrics.render(),
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  leg2Url = announcedLeg2Url(config, port);
  logger.current = app.log;
  try {
    await heartbeat.start();
  } catch (err) {
    await app.close();
    redis.disconnect();
    if (ownsEngines) await closeEngines(engines);
    throw new Error(`cannot register in the worker registry at REDIS_URL: ${(err as Error).message}`, { cause: err });
  }
  const ready = warmUp(engines, budget, ownsEngines, (err, what) => app.log.error({ err }, `start-up: ${what} failed`))
    .then(() => heartbeat.beat())
    .catch(() => undefined); // a failed beat is reported by the heartbeat and retried
  if (options.waitUntilReady !== false) await ready;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  let closing: Promise<void> | undefined;
  return {
    app, workerId, url: `http://${host}:${port}`, leg2Url, streams, ready,
    close: () =>
      (closing ??= (async () => {
        await app.close(); // preClose: draining, streams finish, leg 2 closes with 1001
        await heartbeat.stop();
        redis.disconnect();
        enginesClosing.abort();
        if (ownsEngines) await closeEngines(engines);
      })()),
  };
}
