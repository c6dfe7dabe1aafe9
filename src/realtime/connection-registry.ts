import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisLeases, Renewal } from '../state/redis-leases.js';
import { KeyConnectionRegistry } from './key-connections.js';
import type { LiveConnection } from './live-connection.js';

export type { LiveConnection } from './live-connection.js';

/**
 * The live connections of each platform session, by participant (spec 000 "Active Session
 * Management"): how many streams a session has (it completes when the last one closes) and which
 * to end when a participant is revoked.
 *
 * Process-local: it only sees the connections of this process. {@link RedisSessionPresence} adds
 * the other processes through Redis.
 */
export class SessionConnectionRegistry {
  private readonly bySession = new Map<string, Map<LiveConnection, string>>();

  /** Registers `connection` as a live stream of `participantId` in `sessionId`. */
  add(sessionId: string, participantId: string, connection: LiveConnection): void {
    let live = this.bySession.get(sessionId);
    if (!live) this.bySession.set(sessionId, (live = new Map()));
    live.set(connection, participantId);
  }

  /**
   * Forgets a connection.
   * @returns the number of live connections the session still has.
   */
  remove(sessionId: string, connection: LiveConnection): number {
    const live = this.bySession.get(sessionId);
    if (!live) return 0;
    live.delete(connection);
    if (live.size === 0) this.bySession.delete(sessionId);
    return live.size;
  }

  /** Live connections of a session. */
  count(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  /**
   * Ends every live connection of a participant (see {@link LiveConnection.disconnect}); they remove
   * themselves when their close completes.
   * @returns how many connections were told to end.
   */
  disconnectParticipant(sessionId: string, participantId: string, status: number, description: string): number {
    const live = this.bySession.get(sessionId);
    if (!live) return 0;
    const targets = [...live].filter(([, p]) => p === participantId).map(([c]) => c);
    for (const c of targets) c.disconnect(status, description);
    return targets.length;
  }
}

/**
 * Where a platform session's live streams are counted and revoked (spec 000 "Active Session
 * Management"): in this process ({@link LocalSessionPresence}, role `all` without Redis) or across
 * every gateway on one Redis ({@link RedisSessionPresence}), so that a revocation sent to any
 * gateway ends the participant's streams on all of them, and a session completes when its last
 * stream closes wherever it ran.
 */
export interface SessionPresence {
  /** Registers a live stream; resolves once every process can see it. Never rejects. */
  add(sessionId: string, participantId: string, connection: LiveConnection): Promise<void>;
  /**
   * Forgets a stream. Never rejects.
   * @returns the live streams the session still has, across processes.
   */
  remove(sessionId: string, connection: LiveConnection): Promise<number>;
  /**
   * Ends every live stream of a participant, wherever it runs (see {@link LiveConnection.disconnect}).
   * Never rejects.
   * @returns how many live streams the participant had.
   */
  disconnectParticipant(sessionId: string, participantId: string, status: number, description: string): Promise<number>;
  /**
   * Live streams of a session across processes, or undefined when this presence cannot see other
   * processes (then nobody but the stream's own process may complete the session).
   */
  liveCount(sessionId: string): Promise<number | undefined>;
  /** Registers a live stream of API key `keyId` (opened with it or a session key it issued). */
  addKeyStream(keyId: string, connection: LiveConnection): void;
  /** Forgets a stream of API key `keyId` (again is harmless). */
  removeKeyStream(keyId: string, connection: LiveConnection): void;
  /**
   * Ends every live stream of API key `keyId` (rotated or deleted), wherever it runs. Never rejects.
   * @returns how many streams this process ended (other processes end theirs on their own).
   */
  disconnectKey(keyId: string, status: number, description: string): Promise<number>;
  /** How long a stream outlives a crash of its process, in ms (0: it dies with it). */
  readonly leaseTtlMs: number;
  /** Stops timers and the subscription. */
  close(): Promise<void>;
}

/** {@link SessionPresence} of one process. */
export class LocalSessionPresence implements SessionPresence {
  readonly local = new SessionConnectionRegistry();
  readonly keys = new KeyConnectionRegistry();

  async add(sessionId: string, participantId: string, connection: LiveConnection): Promise<void> {
    this.local.add(sessionId, participantId, connection);
  }

  async remove(sessionId: string, connection: LiveConnection): Promise<number> {
    return this.local.remove(sessionId, connection);
  }

  async disconnectParticipant(sessionId: string, participantId: string, status: number, description: string): Promise<number> {
    return this.local.disconnectParticipant(sessionId, participantId, status, description);
  }

  async liveCount(): Promise<undefined> {
    return undefined;
  }

  addKeyStream(keyId: string, connection: LiveConnection): void {
    this.keys.add(keyId, connection);
  }

  removeKeyStream(keyId: string, connection: LiveConnection): void {
    this.keys.remove(keyId, connection);
  }

  async disconnectKey(keyId: string, status: number, description: string): Promise<number> {
    return this.keys.disconnectKey(keyId, status, description);
  }

  readonly leaseTtlMs = 0;

  async close(): Promise<void> {}
}

/**
 * A revocation as published to every process: a session's participant (no `kind`, as before key
 * revocations existed), or every stream of an API key (`kind: 'key'`).
 */
type Revocation =
  | { kind?: 'participant'; sessionId: string; participantId: string; status: number; description: string }
  | { kind: 'key'; keyId: string; status: number; description: string };

/** Settings of a {@link RedisSessionPresence}. */
export interface RedisSessionPresenceOptions {
  /** Prefix of the per-session keys (default `tolk:session-streams:`). */
  keyPrefix?: string;
  /** Pub/sub channel of revocations, of participants and of API keys (default `tolk:session-revocations`). */
  channel?: string;
  /** How long a stream's lease outlives its last renewal, in ms (default 60 000); renewed every third. */
  leaseTtlMs?: number;
  /** Redis failures that reach no caller. */
  onError?: (err: Error) => void;
}

/**
 * {@link SessionPresence} shared by every process on one Redis. Each live stream is a lease — a
 * member `<participant id>|<random>` of the sorted set `tolk:session-streams:<session id>`, scored by
 * its expiry on the Redis clock and renewed by its process while the stream lives — so a process that
 * crashes stops counting after `leaseTtlMs`. Revocations — of a participant, or of an API key that
 * was rotated or deleted — are published on one channel; every process ends its own streams of it. When Redis fails, this process's own streams still count
 * and are revoked (the failure is reported to `onError`).
 */
export class RedisSessionPresence implements SessionPresence {
  private readonly local = new SessionConnectionRegistry();
  private readonly keys = new KeyConnectionRegistry();
  private readonly held = new Map<LiveConnection, { key: string; member: string }>();
  private readonly leases: RedisLeases;
  private readonly keyPrefix: string;
  private readonly channel: string;
  readonly leaseTtlMs: number;
  private readonly renewal: Renewal;
  /** The second connection, subscribed to revocations. */
  private readonly subscriber: Redis;
  private readonly subscribed: Promise<void>;

  /**
   * @param redis - commands; a second connection is made from it for the subscription.
   */
  constructor(private readonly redis: Redis, private readonly options: RedisSessionPresenceOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'tolk:session-streams:';
    this.channel = options.channel ?? 'tolk:session-revocations';
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.leases = new RedisLeases(redis);
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', (err: Error) => this.options.onError?.(err));
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      try {
        const r = JSON.parse(text) as Revocation;
        if (r.kind === 'key') this.keys.disconnectKey(r.keyId, r.status, r.description);
        else this.local.disconnectParticipant(r.sessionId, r.participantId, r.status, r.description);
      } catch (err) {
        this.options.onError?.(err as Error);
      }
    });
    this.subscribed = this.subscriber.subscribe(this.channel).then(
      () => undefined,
      (err: unknown) => this.options.onError?.(err as Error),
    );
    this.renewal = new Renewal(() => this.renewAll(), Math.max(1, Math.floor(this.leaseTtlMs / 3)), (err) => this.options.onError?.(err as Error));
    this.renewal.start();
  }

  async add(sessionId: string, participantId: string, connection: LiveConnection): Promise<void> {
    this.local.add(sessionId, participantId, connection);
    const lease = { key: this.keyPrefix + sessionId, member: `${participantId}|${randomBytes(9).toString('base64url')}` };
    this.held.set(connection, lease);
    await this.subscribed;
    await this.leases.put(lease.key, lease.member, this.leaseTtlMs).catch((err: unknown) => this.options.onError?.(err as Error));
  }

  async remove(sessionId: string, connection: LiveConnection): Promise<number> {
    const localLeft = this.local.remove(sessionId, connection);
    const lease = this.held.get(connection);
    this.held.delete(connection);
    try {
      const left = await this.leases.drop(this.keyPrefix + sessionId, lease?.member);
      return left.length;
    } catch (err) {
      this.options.onError?.(err as Error);
      return localLeft;
    }
  }

  async disconnectParticipant(sessionId: string, participantId: string, status: number, description: string): Promise<number> {
    const localCount = this.local.disconnectParticipant(sessionId, participantId, status, description);
    try {
      const live = await this.leases.live(this.keyPrefix + sessionId);
      const message: Revocation = { sessionId, participantId, status, description };
      await this.redis.publish(this.channel, JSON.stringify(message));
      return Math.max(localCount, live.filter((m) => m.startsWith(`${participantId}|`)).length);
    } catch (err) {
      this.options.onError?.(err as Error);
      return localCount;
    }
  }

  addKeyStream(keyId: string, connection: LiveConnection): void {
    this.keys.add(keyId, connection);
  }

  removeKeyStream(keyId: string, connection: LiveConnection): void {
    this.keys.remove(keyId, connection);
  }

  async disconnectKey(keyId: string, status: number, description: string): Promise<number> {
    const ended = this.keys.disconnectKey(keyId, status, description);
    const message: Revocation = { kind: 'key', keyId, status, description };
    await this.redis.publish(this.channel, JSON.stringify(message)).catch((err: unknown) => this.options.onError?.(err as Error));
    return ended;
  }

  /** @throws {Error} when Redis fails. */
  async liveCount(sessionId: string): Promise<number> {
    return (await this.leases.live(this.keyPrefix + sessionId)).length;
  }

  async close(): Promise<void> {
    await this.renewal.stop();
    await this.subscribed;
    this.subscriber.disconnect();
  }

  /** Renews this process's leases in one round trip. */
  private async renewAll(): Promise<void> {
    if (this.held.size === 0) return;
    const batch = this.redis.pipeline();
    for (const { key, member } of this.held.values()) this.leases.putIn(batch, key, member, this.leaseTtlMs);
    const failed = (await batch.exec())?.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
