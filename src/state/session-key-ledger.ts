import type { Redis } from 'ioredis';

/**
 * The live session keys of each API key, counted so one API key cannot fill the state store
 * (`TOLK_MAX_SESSION_KEYS_PER_KEY`, docs/stream-protocol.md "Session key"). Entries are opaque
 * members (a digest of the session key) with an expiry; expired ones stop counting on their own.
 * In memory for one process ({@link MemorySessionKeyLedger}), in Redis for every process
 * ({@link RedisSessionKeyLedger}).
 */
export interface SessionKeyLedger {
  /**
   * Records `member` for `apiKeyId` for `ttlMs` ms unless `limit` live members are already recorded;
   * the count and the addition are atomic (two racing callers never both take the last place).
   * @returns true when recorded, false at the limit.
   * @throws {Error} when Redis fails.
   */
  tryAdd(apiKeyId: string, member: string, ttlMs: number, limit: number): Promise<boolean>;
  /** Forgets `member` (a reservation that was not used). @throws {Error} when Redis fails. */
  remove(apiKeyId: string, member: string): Promise<void>;
  /** Live members of `apiKeyId`. @throws {Error} when Redis fails. */
  count(apiKeyId: string): Promise<number>;
  /** Forgets every member of `apiKeyId` (its session keys were revoked). @throws {Error} when Redis fails. */
  clear(apiKeyId: string): Promise<void>;
}

/** {@link SessionKeyLedger} of one process, in memory; expired members are dropped when counted. */
export class MemorySessionKeyLedger implements SessionKeyLedger {
  private readonly byKey = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  async tryAdd(apiKeyId: string, member: string, ttlMs: number, limit: number): Promise<boolean> {
    const live = this.live(apiKeyId);
    if (live.size >= limit) return false;
    live.set(member, this.now() + ttlMs);
    this.byKey.set(apiKeyId, live);
    return true;
  }

  async remove(apiKeyId: string, member: string): Promise<void> {
    this.byKey.get(apiKeyId)?.delete(member);
  }

  async count(apiKeyId: string): Promise<number> {
    return this.live(apiKeyId).size;
  }

  async clear(apiKeyId: string): Promise<void> {
    this.byKey.delete(apiKeyId);
  }

  /** The members of `apiKeyId` not expired (the map is dropped when empty). */
  private live(apiKeyId: string): Map<string, number> {
    const members = this.byKey.get(apiKeyId) ?? new Map<string, number>();
    const t = this.now();
    for (const [m, expiresAtMs] of members) if (expiresAtMs <= t) members.delete(m);
    if (members.size === 0) this.byKey.delete(apiKeyId);
    return members;
  }
}

/** Milliseconds now on the Redis server's clock (one clock for every process). */
const LUA_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";
/** KEYS[1] members of a key; ARGV: member, TTL ms, limit. 1 when added, 0 at the limit. */
const TRY_ADD = `${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;
/** KEYS[1] members of a key: the number not expired. */
const COUNT = `${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

/**
 * {@link SessionKeyLedger} shared by every process on one Redis: a sorted set per API key
 * (`tolk:session-keys-of:<api key id>`), each member scored by its expiry on the Redis clock, the set
 * expiring with its newest member. A limit check and its addition are one Lua script.
 */
export class RedisSessionKeyLedger implements SessionKeyLedger {
  /** @param keyPrefix - prefix of the per-API-key sets (default `tolk:session-keys-of:`). */
  constructor(private readonly redis: Redis, private readonly keyPrefix = 'tolk:session-keys-of:') {}

  async tryAdd(apiKeyId: string, member: string, ttlMs: number, limit: number): Promise<boolean> {
    return Number(await this.redis.eval(TRY_ADD, 1, this.keyPrefix + apiKeyId, member, Math.max(1, Math.round(ttlMs)), limit)) === 1;
  }

  async remove(apiKeyId: string, member: string): Promise<void> {
    await this.redis.zrem(this.keyPrefix + apiKeyId, member);
  }

  async count(apiKeyId: string): Promise<number> {
    return Number(await this.redis.eval(COUNT, 1, this.keyPrefix + apiKeyId));
  }

  async clear(apiKeyId: string): Promise<void> {
    await this.redis.del(this.keyPrefix + apiKeyId);
  }
}
