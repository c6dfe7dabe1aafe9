/**
 * Per-organization concurrent stream counters of admission (spec 002 Part 2 step 2): in memory for
 * one process, in Redis when processes share the limit.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A held stream slot. `release` frees it; calling it again does nothing. */
export interface StreamSlot {
  release(): Promise<void>;
}

/**
 * Counts an organization's live streams for the concurrency limit (spec 002 Part 2 step 2 "whether
 * new sessions are permitted"). One process: {@link MemoryStreamCounter}; several processes:
 * {@link RedisStreamCounter}, so they share one count.
 */
export interface StreamCounter {
  /**
   * Takes a slot when fewer than `limit` are held, atomically (two racing callers never both take
   * the last slot).
   * @returns the slot, or undefined when `limit` slots are already held.
   */
  acquire(organizationId: string, limit: number): Promise<StreamSlot | undefined>;
  /** Slots of the organization held now. */
  count(organizationId: string): Promise<number>;
}

/** {@link StreamCounter} of one process, in memory. */
export class MemoryStreamCounter implements StreamCounter {
  private readonly held = new Map<string, number>();

  async acquire(organizationId: string, limit: number): Promise<StreamSlot | undefined> {
    const n = this.held.get(organizationId) ?? 0;
    if (n >= limit) return undefined;
    this.held.set(organizationId, n + 1);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.held.get(organizationId) ?? 1) - 1;
        if (left > 0) this.held.set(organizationId, left);
        else this.held.delete(organizationId);
      },
    };
  }

  async count(organizationId: string): Promise<number> {
    return this.held.get(organizationId) ?? 0;
  }
}

/** Milliseconds now on the Redis server's clock (one clock for every process). */
const LUA_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";
/** KEYS[1] set of leases; ARGV: limit, lease id, lease TTL in ms. 1 when taken, 0 at the limit. */
const ACQUIRE = `${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;
/** KEYS[1] set of leases; ARGV: lease id, lease TTL in ms. 1 when extended, 0 when the lease is gone. */
const RENEW = `${LUA_NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;
/** KEYS[1] set of leases: the number not expired. */
const COUNT = `${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

/** Settings of a {@link RedisStreamCounter}. */
export interface RedisStreamCounterOptions {
  /** Prefix of the per-organization keys (default `tolk:streams:`). */
  keyPrefix?: string;
  /** How long a slot outlives its last renewal, in ms (default 60 000); renewed every third of it. */
  leaseTtlMs?: number;
  /**
   * Called when Redis fails. The stream is then admitted without a slot (availability first, as
   * the shared rate limits do) and a failed release is left to the lease TTL.
   */
  onError?: (err: Error) => void;
}

/**
 * {@link StreamCounter} shared by every process on one Redis. Each slot is a lease (a member of a
 * sorted set per organization, scored by its expiry on the Redis clock) that its holder renews while
 * the stream lives: a crashed process's slots expire after `leaseTtlMs` on their own, and a count
 * can never go negative, which a bare INCR/DECR counter with a TTL cannot promise.
 */
export class RedisStreamCounter implements StreamCounter {
  private readonly keyPrefix: string;
  private readonly leaseTtlMs: number;

  constructor(private readonly redis: Redis, private readonly options: RedisStreamCounterOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'tolk:streams:';
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
  }

  async acquire(organizationId: string, limit: number): Promise<StreamSlot | undefined> {
    const key = this.keyPrefix + organizationId;
    const lease = randomBytes(12).toString('base64url');
    try {
      if (Number(await this.redis.eval(ACQUIRE, 1, key, limit, lease, this.leaseTtlMs)) !== 1) return undefined;
    } catch (err) {
      this.options.onError?.(err as Error);
      return { release: async () => {} };
    }
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, 1, key, lease, this.leaseTtlMs).then(
        (kept) => {
          if (Number(kept) !== 1) clearInterval(renewal); // expired while the process stalled: not taken again
        },
        (err: unknown) => this.options.onError?.(err as Error),
      );
    }, Math.max(1, Math.floor(this.leaseTtlMs / 3)));
    renewal.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        await this.redis.zrem(key, lease).catch((err: unknown) => this.options.onError?.(err as Error));
      },
    };
  }

  async count(organizationId: string): Promise<number> {
    return Number(await this.redis.eval(COUNT, 1, this.keyPrefix + organizationId));
  }
}

/**
 * The counter a process should use (spec 002 Part 2 step 2): shared in Redis when the process has a
 * Redis connection (`REDIS_URL`), in memory otherwise. Create one per process and keep it.
 */
export function createStreamCounter(redis: Redis | undefined, options: RedisStreamCounterOptions = {}): StreamCounter {
  return redis ? new RedisStreamCounter(redis, options) : new MemoryStreamCounter();
}
