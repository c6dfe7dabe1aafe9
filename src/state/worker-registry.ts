import type { Redis } from 'ioredis';
import { RedisLeases, Renewal } from './redis-leases.js';

/** How often a worker refreshes its registry entry, in ms. */
export const WORKER_HEARTBEAT_MS = 1000;
/** Lifetime of a registry entry without a heartbeat, in ms: a dead worker disappears after at most this. */
export const WORKER_ENTRY_TTL_MS = 3000;

/** A worker's registry entry (docs/architecture.md "Processes"). */
export interface WorkerEntry {
  /** `wrk_…`, unique per worker process. */
  id: string;
  /** Its leg-2 endpoint, e.g. `ws://10.0.0.7:8081/internal/v1/leg2`. */
  url: string;
  /**
   * Streams it accepts now: as many as fit its real-time budget (cores × target utilisation ÷ the
   * measured cost of a stream), at most `TOLK_MAX_STREAMS` (docs/deploy.md "Capacity").
   */
  capacity: number;
  /** Live streams now. */
  load: number;
  /** Measured CPU seconds per second of a stream's audio (absent before the first measurement). */
  costPerAudioS?: number | undefined;
  /** Streams it refused because its budget was spent, since it started. */
  refused?: number;
  /** Streams it shed for falling behind real time, since it started. */
  shed?: number;
  /** True while it shuts down: gateways send it no new stream. */
  draining: boolean;
  /** Wall time of the heartbeat that wrote the entry, in ms since the epoch. */
  heartbeatAtMs: number;
  /**
   * The engine instances it runs (docs/engines.md "Organizations"): `kind` `stt`, `mt` or `tts`,
   * the configured `id` and the module's `name`. Absent in entries of workers that do not announce them.
   */
  engines?: WorkerEngine[];
}

/** One engine instance a worker announces. */
export interface WorkerEngine {
  id: string;
  kind: string;
  name: string;
}

/**
 * Whether a worker can run the providers a leg-2 config names (spec 002 Part 3 `stt.provider`,
 * `translator.provider`, `tts.provider`): `auto` always; otherwise an engine of that kind with
 * that id or module name. A worker that announces no engines is taken to run any.
 */
export function workerRunsProviders(worker: Pick<WorkerEntry, 'engines'>, providers: { stt: string; mt: string; tts: string }): boolean {
  const engines = worker.engines;
  if (!engines) return true;
  return (['stt', 'mt', 'tts'] as const).every((kind) => {
    const p = providers[kind];
    return p === 'auto' || engines.some((e) => e.kind === kind && (e.id === p || e.name === p));
  });
}

const ENTRY = (prefix: string, id: string): string => `${prefix}${id}`;

/**
 * The worker registry in Redis (docs/architecture.md "Processes", `REDIS_URL`): one key per worker with a TTL
 * ({@link WORKER_ENTRY_TTL_MS}) refreshed by its heartbeat, plus a lease set of ids
 * ({@link RedisLeases}, expiry on the Redis clock) so gateways list live workers without scanning
 * the keyspace.
 */
export class WorkerRegistry {
  private readonly index: string;
  private readonly leases: RedisLeases;

  /**
   * @param redis - a connected ioredis client.
   * @param prefix - key prefix (default `tolk:worker:`); the index is `<prefix>index`.
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tolk:worker:',
    private readonly ttlMs = WORKER_ENTRY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.index = `${prefix}index`;
    this.leases = new RedisLeases(redis);
  }

  /**
   * Writes (or refreshes) a worker's entry for {@link WORKER_ENTRY_TTL_MS}.
   * @throws {Error} when Redis does not answer.
   */
  async announce(entry: Omit<WorkerEntry, 'heartbeatAtMs'>): Promise<void> {
    const at = this.now();
    const full: WorkerEntry = { ...entry, heartbeatAtMs: at };
    const batch = this.redis.multi().set(ENTRY(this.prefix, entry.id), JSON.stringify(full), 'PX', this.ttlMs);
    await this.leases.putIn(batch, this.index, entry.id, this.ttlMs).exec();
  }

  /** Removes a worker's entry at once (a worker shutting down). */
  async remove(id: string): Promise<void> {
    await this.redis.multi().del(ENTRY(this.prefix, id)).zrem(this.index, id).exec();
  }

  /**
   * Workers whose entry has not expired, draining ones included.
   * @throws {Error} when Redis does not answer.
   */
  async live(): Promise<WorkerEntry[]> {
    const ids = await this.leases.live(this.index);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(...ids.map((id) => ENTRY(this.prefix, id)));
    const entries: WorkerEntry[] = [];
    for (const r of raw) {
      if (!r) continue;
      try {
        entries.push(JSON.parse(r) as WorkerEntry);
      } catch {
        // a foreign or corrupt value: not a worker
      }
    }
    return entries;
  }
}

/**
 * A worker's heartbeat: announces its entry every {@link WORKER_HEARTBEAT_MS} and at once when its
 * load changes ({@link WorkerHeartbeat.beat}), so gateways pick by a load at most one beat old.
 * Redis failures are reported once through `onError` and retried on the next beat.
 */
export class WorkerHeartbeat {
  private readonly renewal: Renewal;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly entry: () => Omit<WorkerEntry, 'heartbeatAtMs'>,
    private readonly onError: (err: unknown) => void,
    intervalMs = WORKER_HEARTBEAT_MS,
  ) {
    this.renewal = new Renewal(() => registry.announce(entry()), intervalMs, onError);
  }

  /**
   * Announces now, then every interval.
   * @throws {Error} when the first announcement fails (Redis does not answer).
   */
  async start(): Promise<void> {
    await this.registry.announce(this.entry());
    this.renewal.start();
  }

  /** Announces the current entry now (after a load change); beats never overlap. */
  beat(): Promise<void> {
    return this.renewal.now();
  }

  /** Stops beating and removes the entry (a worker shutting down). */
  async stop(): Promise<void> {
    await this.renewal.stop();
    await this.registry.remove(this.entry().id).catch(this.onError);
  }
}
