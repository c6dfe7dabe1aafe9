import type { Redis } from 'ioredis';
import type { StateStore } from './store.js';

/**
 * {@link StateStore} in Redis (`REDIS_URL`): state every process shares — session keys issued by
 * one gateway open `/vt` streams on another (docs/architecture.md "Processes").
 */
export class RedisStateStore implements StateStore {
  /**
   * @param redis - a connection the caller owns (not closed by {@link close}).
   * @param prefix - key prefix (default `tolk:state:`).
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tolk:state:',
  ) {}

  /** @throws {Error} when Redis does not answer. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  /** @throws {Error} when Redis does not answer. */
  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  /** `PEXPIRE`: Redis answers 0 for a missing (or expired) key. @throws {Error} when Redis does not answer. */
  async touch(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.pexpire(this.prefix + key, Math.max(1, Math.round(ttlMs)))) === 1;
  }

  /** @throws {Error} when Redis does not answer. */
  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async close(): Promise<void> {}
}
