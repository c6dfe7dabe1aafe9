import type { Redis } from 'ioredis';

/** How often a worker refreshes its registry entry, in ms. */
export const WORKER_HEARTBEAT_MS = 1000;
/** Lifetime of a registry entry without a heartbeat, in ms: a dead worker disappears after at most this. */
export const WORKER_ENTRY_TTL_MS = 3000;

/** A worker's registry entry (DESIGN §2 "registers its capacity and load in the state store"). */
export interface WorkerEntry {
  /** `wrk_…`, unique per worker process. */
  id: string;
  /** Its leg-2 endpoint, e.g. `ws://10.0.0.7:8081/internal/v1/leg2`. */
  url: string;
  /** Streams it accepts (`TOLK_MAX_STREAMS`). */
  capacity: number;
  /** Live streams now. */
  load: number;
  /** True while it shuts down: gateways send it no new stream. */
  draining: boolean;
  /** Wall time of the heartbeat that wrote the entry, in ms since the epoch. */
  heartbeatAtMs: number;
}

const ENTRY = (prefix: string, id: string): string => `${prefix}${id}`;

/**
 * The worker registry in Redis (DESIGN §2, `REDIS_URL`): one key per worker with a TTL
 * ({@link WORKER_ENTRY_TTL_MS}) refreshed by its heartbeat, plus a sorted set of ids scored by
 * expiry so gateways list live workers without scanning the keyspace.
 */
export class WorkerRegistry {
  private readonly index: string;

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
  }

  /**
   * Writes (or refreshes) a worker's entry for {@link WORKER_ENTRY_TTL_MS}.
   * @throws {Error} when Redis does not answer.
   */
  async announce(entry: Omit<WorkerEntry, 'heartbeatAtMs'>): Promise<void> {
    const at = this.now();
    const full: WorkerEntry = { ...entry, heartbeatAtMs: at };
    await this.redis
      .multi()
      .set(ENTRY(this.prefix, entry.id), JSON.stringify(full), 'PX', this.ttlMs)
      .zadd(this.index, at + this.ttlMs, entry.id)
      .exec();
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
    const at = this.now();
    await this.redis.zremrangebyscore(this.index, '-inf', at);
    const ids = await this.redis.zrangebyscore(this.index, at, '+inf');
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
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly entry: () => Omit<WorkerEntry, 'heartbeatAtMs'>,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = WORKER_HEARTBEAT_MS,
  ) {}

  /** Announces now and then every interval. */
  async start(): Promise<void> {
    await this.registry.announce(this.entry());
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** Announces the current entry now (after a load change); beats never overlap. */
  beat(): Promise<void> {
    this.inFlight = this.inFlight.then(async () => {
      if (!this.timer) return;
      try {
        await this.registry.announce(this.entry());
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.onError(err);
        this.failing = true;
      }
    });
    return this.inFlight;
  }

  /** Stops beating and removes the entry (a worker shutting down). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.registry.remove(this.entry().id).catch(this.onError);
  }
}
