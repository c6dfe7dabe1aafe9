import type { TolkConfig } from './config.js';
import type { Database } from './db/client.js';
import type { PipelineEvent } from './pipeline/translation-pipeline.js';
import type { Engines } from './providers/registry.js';
import type { SessionKeyIssuer } from './domain/session-keys.js';
import type { SessionRuntime } from './realtime/session-runtime.js';
import type { StreamSlots } from './realtime/stream-slots.js';
import type { WorkerLinks } from './realtime/worker-link.js';
import type { Redis } from 'ioredis';
import type { StateStore } from './state/store.js';
import type { TolkMetrics } from './metrics.js';
import type { InterpreterDispatcher, Interpreters } from './domain/interpreters.js';
import type { CallControl, CallTelephony } from './domain/calls/telephony.js';

/** What every surface shares in one process: settings, database, state store and engines. */
export interface AppContext {
  config: TolkConfig;
  db: Database;
  state: StateStore;
  engines: Engines;
  /**
   * Where session keys (`vt_…`) are stored and counted per API key (`TOLK_MAX_SESSION_KEYS_PER_KEY`):
   * `store` is {@link AppContext.state}; the ledger is in Redis when `REDIS_URL` is set.
   */
  sessionKeys: SessionKeyIssuer;
  /** The Redis connection when `REDIS_URL` is set (shared rate limits and state). */
  redis?: Redis | undefined;
  /** Stream slots of this process: every transport's live streams, per tenant (docs/security.md). */
  slots: StreamSlots;
  /**
   * Live streams of this process (for shutdown and `tolk_streams_active`): each `StreamSession`
   * (src/core/stream-session.ts) from start to close, labelled by its `surface` (`vt` when unset).
   */
  activeStreams: Set<{ shutdown(): Promise<void>; drain?(timeoutMs: number): Promise<void>; readonly surface?: string }>;
  /** Binds realtime streams to their organization and platform session (glossary, recording, revocation). */
  sessions: SessionRuntime;
  /**
   * How `/vt` streams and conversation connections reach a worker (leg 2, docs/architecture.md "Processes"): in this
   * process for role `all`, remote workers from the registry for role `gateway`.
   */
  workers: WorkerLinks;
  /** The LiveKit interpreters of this process, one per room (docs/rooms.md); they start only when LiveKit is configured. */
  interpreters: Interpreters;
  /** When a room's interpreter joins: at its first participant (docs/rooms.md "How the interpreter joins"). */
  interpreterDispatch: InterpreterDispatcher;
  /** Prometheus metrics of this process (`/metrics`). */
  metrics: TolkMetrics;
  /** Live conversation connections (spec 003), by kind, for the metrics. */
  liveConversations: { single: number; room: number };
  /**
   * What the telephony side may do to call sessions (provider status, media legs, stream tokens):
   * the calls runtime (`CallsContext.callSessions`, src/gateway/calls/calls-service.ts) unless a test
   * puts a stand-in here. Set by the composition root (`src/server.ts`).
   */
  calls?: CallControl | undefined;
  /** The telephony provider that places and hangs up calls (spec 004 `provider`); unset when none is configured. */
  telephony?: CallTelephony | undefined;
  /**
   * What the process still waits for before it serves streams (recognizers loading, the cost being
   * measured; docs/deploy.md "Readiness"): empty when ready. `GET /api/health/ready` reads it.
   */
  readiness?: () => readonly string[];
  /** Called with every finished utterance (latency marks, transcript, translation). */
  onUtterance?: (event: Extract<PipelineEvent, { type: 'utterance-end' }>) => void;
}
