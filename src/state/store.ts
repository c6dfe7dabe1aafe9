/**
 * Shared key/value state with expiry (docs/architecture.md "Processes"). The embedded default keeps it in memory;
 * a Redis implementation shares it between processes.
 */
export interface StateStore {
  /** Stores `value` under `key` for `ttlMs` ms. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value, or undefined when missing or expired. */
  get(key: string): Promise<string | undefined>;
  /**
   * Starts the expiry of a live `key` again: it now expires `ttlMs` ms from now.
   * @returns false when the key is missing or expired (nothing is stored then).
   */
  touch(key: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** In-memory {@link StateStore}; expired entries are dropped when read and swept every minute. */
export class MemoryStateStore implements StateStore {
  private readonly entries = new Map<string, { value: string; expiresAtMs: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAtMs: this.now() + ttlMs });
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    const e = this.live(key);
    if (!e) return false;
    e.expiresAtMs = this.now() + ttlMs;
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** The entry of `key` unless missing or expired (an expired one is dropped). */
  private live(key: string): { value: string; expiresAtMs: number } | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.entries) if (e.expiresAtMs <= t) this.entries.delete(k);
  }
}
