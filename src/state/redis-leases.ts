import type { ChainableCommander, Redis } from 'ioredis';

/**
 * Lua: `now`, milliseconds on the Redis server's clock. Every lease expiry is on this clock, so
 * processes whose clocks disagree still agree on which leases are live.
 */
export const REDIS_NOW_MS_LUA = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/** KEYS[1] lease set; ARGV: member, TTL ms. Adds or renews the lease; the set outlives its longest lease. */
const PUT = `${REDIS_NOW_MS_LUA}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

/** KEYS[1] lease set; ARGV: member to drop (or ''). Drops expired leases; returns the live members. */
const DROP = `${REDIS_NOW_MS_LUA}
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/** KEYS[1] claim; ARGV: owner, TTL ms. Takes the claim when free or already ours (renewing it); returns the owner. */
const CLAIM = `local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return owner`;

/** KEYS[1] claim; ARGV: owner. Deletes the claim only when it is ours. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Leases in Redis, the one pattern every shared registry uses (docs/architecture.md "Processes": worker registry, live
 * streams of platform sessions, interpreters of rooms): a lease lives until its expiry on the
 * Redis clock unless its holder renews it, so a crashed process stops counting by itself.
 * - A **lease set** (a sorted set, member → expiry) counts many holders: a session's live streams,
 *   the live workers.
 * - A **claim** (a string with a TTL) has one owner: the process that runs a room's interpreter.
 * Renewal is the holder's job ({@link Renewal}).
 */
export class RedisLeases {
  constructor(private readonly redis: Redis) {}

  /**
   * Adds or renews `member`'s lease in the set at `key` for `ttlMs`.
   * @throws {Error} when Redis fails.
   */
  async put(key: string, member: string, ttlMs: number): Promise<void> {
    await this.redis.eval(PUT, 1, key, member, ttlMs);
  }

  /** Queues {@link put} on a pipeline or transaction (renewing many leases in one round trip). */
  putIn(batch: ChainableCommander, key: string, member: string, ttlMs: number): ChainableCommander {
    return batch.eval(PUT, 1, key, member, ttlMs);
  }

  /**
   * Drops `member`'s lease (when given) and the expired ones.
   * @returns the members still live.
   * @throws {Error} when Redis fails.
   */
  async drop(key: string, member?: string): Promise<string[]> {
    return (await this.redis.eval(DROP, 1, key, member ?? '')) as string[];
  }

  /**
   * The live members of the set at `key` (expired leases are dropped on the way).
   * @throws {Error} when Redis fails.
   */
  live(key: string): Promise<string[]> {
    return this.drop(key);
  }

  /**
   * Takes (or renews) the claim at `key` for `owner` for `ttlMs`, unless another owner holds it.
   * @returns true when `owner` holds the claim now.
   * @throws {Error} when Redis fails.
   */
  async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return ((await this.redis.eval(CLAIM, 1, key, owner, ttlMs)) as string) === owner;
  }

  /**
   * Gives the claim at `key` back, when `owner` holds it.
   * @throws {Error} when Redis fails.
   */
  async release(key: string, owner: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, key, owner);
  }
}

/**
 * The renewal loop of a lease holder: `renew` every `intervalMs` (a third of the lease's
 * TTL, so two renewals may fail before a lease expires), never two at once. A failure is reported
 * once through `onError` until a renewal succeeds again; the loop goes on (Redis may come back).
 */
export class Renewal {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly renew: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Renews every interval from now on (the holder made its leases itself). Idempotent. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.now(), this.intervalMs);
    this.timer.unref();
  }

  /** Renews now, after any renewal in flight (e.g. at once after a change that others must see). */
  now(): Promise<void> {
    this.inFlight = this.inFlight.then(async () => {
      if (!this.timer) return;
      try {
        await this.renew();
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.onError(err);
        this.failing = true;
      }
    });
    return this.inFlight;
  }

  /** Stops renewing and waits for the renewal in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
