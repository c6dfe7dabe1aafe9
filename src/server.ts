import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Interpreters } from './domain/interpreters.js';
import { createHttpApp, mountSurfaces } from './app.js';
import { roleProblem, type TolkConfig } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { countApiKeys, createApiKey } from './domain/api-keys.js';
import { listenAdmin } from './api/admin/admin-socket.js';
import { stripeClient } from './integrations/stripe.js';
import { StripeMeterReporter } from './realtime/stripe-meter-reporter.js';
import { closeEngines, createEngines } from './providers/index.js';
import { readEnginesConfig } from './providers/engine-config.js';
import { SessionRuntime } from './realtime/session-runtime.js';
import { StreamSlots } from './realtime/stream-slots.js';
import { RedisSessionPresence } from './realtime/connection-registry.js';
import type { Engines } from './providers/registry.js';
import { Redis } from 'ioredis';
import { MemoryStateStore, type StateStore } from './state/store.js';
import { RedisStateStore } from './state/redis-store.js';
import { MemorySessionKeyLedger, RedisSessionKeyLedger } from './state/session-key-ledger.js';
import { WorkerRegistry } from './state/worker-registry.js';
import { InProcessWorkerLinks } from './realtime/in-process-worker-link.js';
import type { RealtimeBudget } from './realtime/realtime-budget.js';
import { processBudget, warmUp } from './realtime/warm-up.js';
import { supportedPairs } from './providers/registry.js';
import { RemoteWorkerLinks } from './realtime/remote-worker-link.js';
import type { WorkerLinks } from './realtime/worker-link.js';
import { streamSettings } from './realtime/stream-settings.js';
import type { VadName } from './providers/vad/types.js';
import { streamsBySurface, TolkMetrics } from './metrics.js';
import { InterpreterManager } from './transports/livekit/interpreter-manager.js';
import { InterpreterDispatch } from './transports/livekit/interpreter-dispatch.js';
import { guardLiveKitNativeErrors } from './transports/livekit/native-errors.js';
import { RedisInterpreterPlacement } from './transports/livekit/interpreter-placement.js';
import { listRoomParticipants } from './integrations/livekit.js';
import type { LogStream } from './logging.js';
import { createTwilioTelephony } from './api/telephony/twilio.js';
import type { TwilioHttpClient } from './integrations/twilio.js';
import { CallsService, type CallsContext } from './gateway/calls/calls-service.js';

/** How often a process looks for active sessions no process streams any more, in ms. */
const ORPHAN_SWEEP_INTERVAL_MS = 60_000;

/** A running Tolk server. */
export interface RunningServer {
  app: FastifyInstance;
  ctx: CallsContext;
  /** Base URL the server listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The owner key created on the first start of an empty database (shown once). */
  firstOwnerKey: string | undefined;
  /** The real-time budget of the pipelines this process runs (role `all`; undefined for a gateway). */
  budget: RealtimeBudget | undefined;
  /**
   * Settles when the start-up work after listening is done and streams are admitted
   * (`/api/health/ready` answers 200; docs/deploy.md "Readiness"). Never rejects.
   */
  ready: Promise<void>;
  /** Stops accepting, ends live streams, closes engines and the database. */
  close(): Promise<void>;
}

/**
 * The pipelines of role `all`, in this process, under a real-time budget measured from the
 * recognizer (a start-up calibration after listening, then live traffic; docs/deploy.md "Capacity").
 * The budget starts warming up: streams are refused until `warmUp` is done.
 */
function inProcessWorkers(
  config: TolkConfig, engines: Engines, current: () => Engines, ownsEngines: boolean, onStarted: (vad: VadName) => void,
): InProcessWorkerLinks {
  const budget = processBudget(config, engines, ownsEngines);
  // The same settings as a worker's (src/realtime/stream-settings.ts): VAD, endpointing, limits.
  return new InProcessWorkerLinks(current, { ...streamSettings(config), onStarted }, budget);
}

/**
 * The LiveKit interpreters of a process (docs/rooms.md): with Redis and LiveKit, gateways share the
 * rooms — one interpreter per room, taken over when its gateway dies; otherwise this process's own.
 */
function interpretersOf(config: TolkConfig, redis: Redis | undefined, ctx: () => AppContext, log: FastifyBaseLogger): Interpreters {
  if (!redis || !config.liveKit.configured) return new InterpreterManager(ctx);
  return new RedisInterpreterPlacement(redis, (onStopped) => new InterpreterManager(ctx, onStopped), log, {
    hasRoom: () => ctx().slots.held < ctx().slots.capacity,
    isRoomLive: async (room) => (await listRoomParticipants(config.liveKit, room)).some((p) => !p.agent),
  });
}

function refusalOf(admission: { ok: true } | { ok: false; description: string }): string | undefined {
  return admission.ok ? undefined : admission.description;
}

export { adminSocketPath } from './api/admin/admin-socket.js';

/**
 * Opens the database, starts the engines and listens, then does the heavy start-up work (loading
 * recognizers and translation pairs, measuring the recognizer's cost) after listening, so listening
 * and plugin registration never wait on engine work: role `all` (every surface, pipelines in this
 * process) or `gateway` (every surface; `/vt` streams and conversation recognizers on remote workers, no recognizer loaded here; docs/architecture.md "Processes"). Role `worker`
 * is {@link startWorker} in `worker-server.ts`.
 * Without Redis the process owns its database alone: sessions a dead predecessor left `active` are
 * completed before it listens (docs/sessions.md); with Redis the orphaned-session sweep does it.
 * @param options.engines - engines to share (tests start them once); created when omitted.
 * @param options.bootstrapOwnerKey - create and return an owner key when the database has none.
 * @param options.logStream - where log lines go instead of stdout (tests capture them).
 * @param options.twilioHttpClient - the Twilio client's HTTP client (tests: the Twilio simulator).
 * @param options.waitUntilReady - resolve only once the start-up work is done (default true);
 *   `tolk serve` passes false and reports readiness from {@link RunningServer.ready}.
 * @throws {Error} when the role's settings are missing, or the database, the engines or the port
 *   cannot be opened.
 */
export async function startServer(
  config: TolkConfig,
  options: { engines?: Engines; bootstrapOwnerKey?: boolean; adminSocket?: boolean; logStream?: LogStream; twilioHttpClient?: TwilioHttpClient; waitUntilReady?: boolean } = {},
): Promise<RunningServer> {
  if (config.role === 'worker') throw new Error('startServer runs roles all and gateway; start a worker with startWorker');
  const problem = roleProblem(config);
  if (problem) throw new Error(problem);
  const database: DatabaseHandle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const ownsEngines = !options.engines;
  let metrics: TolkMetrics | undefined;
  // Aborted on close: engines give up requests in flight and capability discovery.
  const enginesClosing = new AbortController();
  // A gateway's streams are recognized on workers: it loads no recognizer.
  const startEngines = async (): Promise<Engines> => createEngines(readEnginesConfig(config.engines), {
    idleDecoders: config.sttIdleDecoders, recognizers: config.role !== 'gateway', prewarm: false, onRequest: (r) => metrics?.engineRequest(r), signal: enginesClosing.signal,
  });
  const engines = options.engines ?? (await startEngines().catch(async (err: unknown) => {
    await database.close();
    throw err;
  }));
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 2000 }) : undefined;
  // Shared when Redis is there: a session key issued by one process opens a stream on another.
  const state: StateStore = redis ? new RedisStateStore(redis) : new MemoryStateStore();
  let redisDownLogged = false;
  redis?.on('error', (err: Error) => {
    if (!redisDownLogged) console.error(`redis: ${err.message} (requests needing Redis answer 503 until it is back)`);
    redisDownLogged = true;
  });
  redis?.on('ready', () => (redisDownLogged = false));
  /** Logs a Redis failure of `what` once until Redis is ready again (the connection's own error is logged above). */
  const onceUntilReady = (what: string) => {
    let logged = false;
    redis?.on('ready', () => (logged = false));
    return (err: Error): void => {
      if (!logged) console.error(`${what}: ${err.message} (this process's own streams still count and are revoked)`);
      logged = true;
    };
  };
  let firstOwnerKey: string | undefined;
  if (options.bootstrapOwnerKey !== false && (await countApiKeys(database.db)) === 0) {
    firstOwnerKey = (await createApiKey(database.db, { organizationName: 'default', name: 'owner', role: 'owner' })).key;
  }
  const liveStreams = (): Record<string, number> => ({ ...streamsBySurface(ctx.activeStreams), single: ctx.liveConversations.single, room: ctx.liveConversations.room });
  // Role `all` runs the pipelines: its budget comes from the recognizer's measured cost (docs/deploy.md "Capacity").
  const remote = config.role === 'gateway' && redis && config.workerSecret
    ? new RemoteWorkerLinks(new WorkerRegistry(redis), config.workerSecret, (reason) => ctx.metrics.leg2Failure(reason))
    : undefined;
  const local = remote ? undefined : inProcessWorkers(config, engines, () => ctx.engines, ownsEngines, (vad) => ctx.metrics.vadStreamStarted(vad));
  const workers: WorkerLinks = remote ?? (local as InProcessWorkerLinks);
  // The composition root (docs/architecture.md "Processes"): the logger first, then every service
  // once; the surfaces are mounted on what is built here and create none.
  const app = createHttpApp(config, { logStream: options.logStream });
  const ctx: CallsContext = {
    config, db: database.db, state, engines, redis,
    slots: new StreamSlots(config.maxStreams, config.streamLimits.orgShare, local ? () => refusalOf(local.budget.admit(local.load)) : undefined),
    sessionKeys: { store: state, ledger: redis ? new RedisSessionKeyLedger(redis) : new MemorySessionKeyLedger(), maxPerKey: config.maxSessionKeysPerKey },
    activeStreams: new Set(), liveConversations: { single: 0, room: 0 }, workers,
    interpreters: interpretersOf(config, redis, () => ctx, app.log),
    interpreterDispatch: new InterpreterDispatch(() => ctx),
    metrics: (metrics = new TolkMetrics({
      liveStreams: () => liveStreams(), maxStreams: config.maxStreams, stt: engines.stt, workers: () => workers.snapshot(),
      capacity: local ? () => local.budget.report(local.load) : undefined,
    })),
    readiness: () => local?.budget.waitingFor ?? [],
    // Revocations and "completed when the last stream closes" span every gateway when Redis is there.
    sessions: new SessionRuntime({
      db: () => ctx.db,
      presence: redis ? new RedisSessionPresence(redis, { onError: onceUntilReady('session presence') }) : undefined,
    }),
    // Phone calls of spec 004 when TWILIO_* and TOLK_PUBLIC_URL are set (docs/calls.md "Twilio").
    telephony: createTwilioTelephony(config, options.twilioHttpClient),
  };
  // The calls surface's runtime reads the context it completes (spec 004, docs/calls.md).
  const callSessions = new CallsService(() => ctx, app.log);
  await mountSurfaces(app, Object.assign(ctx, { callSessions, calls: callSessions }));
  // A native error of @livekit/rtc-node outside any call never ends the process (docs/rooms.md "Limits").
  const unguard = config.liveKit.configured ? guardLiveKitNativeErrors(app.log) : undefined;
  const sweep = await completeDeadProcessesSessions(ctx, app);
  // Usage to Stripe Billing Meters (docs/billing.md): every process may run it; claims never overlap.
  const stripe = stripeClient(config.stripe);
  const meter = stripe ? new StripeMeterReporter(ctx.db, stripe, config.stripe, app.log) : undefined;
  meter?.start();
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const admin = options.adminSocket && config.dataDir !== 'memory://' ? await listenAdmin(ctx, config.dataDir) : undefined;
  const warmUpLog = (err: unknown, what: string): void => app.log.error({ err }, `start-up: ${what} failed`);
  const ready = local
    ? warmUp(engines, local.budget, ownsEngines, warmUpLog)
    : (ownsEngines ? engines.mt.prewarm(supportedPairs(engines).filter((p) => p.source !== p.target)).catch((err: unknown) => warmUpLog(err, 'the translation engines')) : Promise.resolve());
  if (options.waitUntilReady !== false) await ready;
  let closing: Promise<void> | undefined;
  return {
    app, ctx, url: `http://${host}:${port}`, firstOwnerKey, budget: local?.budget, ready,
    close: () =>
      (closing ??= (async () => {
        admin?.close();
        clearInterval(sweep);
        // Interpreters are streams too: their utterances in flight finish before the app closes.
        ctx.interpreterDispatch.close();
        await ctx.interpreters.close();
        await app.close();
        await meter?.stop();
        await workers.close();
        await ctx.sessions.connections.close();
        await state.close();
        redis?.disconnect();
        enginesClosing.abort();
        if (ownsEngines) await closeEngines(engines);
        await database.close();
        unguard?.();
      })()),
  };
}

/**
 * Completes the platform sessions a process that died left `active` (docs/sessions.md). Without
 * Redis this process owns its database alone: every such session is completed now, before it
 * listens. With Redis, sessions whose last stream's process died complete once its leases expire:
 * a sweep every {@link ORPHAN_SWEEP_INTERVAL_MS}, whose timer is returned (to clear on close).
 * @throws {Error} when the database fails at start (no Redis).
 */
async function completeDeadProcessesSessions(ctx: AppContext, app: FastifyInstance): Promise<NodeJS.Timeout | undefined> {
  if (!ctx.redis) {
    const left = await ctx.sessions.completeSessionsLeftActive();
    if (left.length > 0) app.log.warn({ sessionIds: left }, 'completed sessions a previous process left active');
    return undefined;
  }
  const sweep = setInterval(() => {
    ctx.sessions.completeOrphanedSessions().then(
      (ids) => ids.length > 0 && app.log.warn({ sessionIds: ids }, 'completed sessions whose last stream ended with its process'),
      (err: unknown) => app.log.warn({ err }, 'orphaned-session sweep failed'),
    );
  }, ORPHAN_SWEEP_INTERVAL_MS);
  sweep.unref();
  return sweep;
}
