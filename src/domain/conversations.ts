import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Inactivity after which a conversation expires (spec 003: "after 15 minutes (900 seconds) of inactivity"). */
export const CONVERSATION_IDLE_TTL_S = 900;

/** What the initiator chose when creating a conversation (spec 003 `POST /api/v1/session/create`). */
export interface Conversation {
  id: string;
  /** The initiator's language (`language`). */
  userALang: string;
  /** The language the initiator wanted translation into (`translate_language`). */
  userATranslate: string;
  createdAtMs: number;
}

/** The state store behind conversations is unreachable (spec 003: 503 "Redis service is unavailable."). */
export class ConversationStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('Redis service is unavailable.', { cause });
    this.name = 'ConversationStoreUnavailableError';
  }
}

/**
 * Where conversations live between requests, with an inactivity TTL: Redis when `REDIS_URL` is set
 * (shared by every process, expiry by Redis `EX`), memory otherwise.
 */
export interface ConversationStore {
  /**
   * Creates a conversation with a new unguessable id (a random UUID: 122 random bits).
   * @throws {ConversationStoreUnavailableError}
   */
  create(userALang: string, userATranslate: string): Promise<Conversation>;
  /**
   * The conversation, or undefined when unknown or expired.
   * @throws {ConversationStoreUnavailableError}
   */
  get(id: string): Promise<Conversation | undefined>;
  /**
   * Marks activity: the idle TTL starts again. Returns false when the conversation has expired.
   * @throws {ConversationStoreUnavailableError}
   */
  touch(id: string): Promise<boolean>;
}

const KEY = (id: string): string => `tolk:conversation:${id}`;

/** Conversations in Redis with `EX` = the idle TTL, renewed on activity. */
export class RedisConversationStore implements ConversationStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number = CONVERSATION_IDLE_TTL_S,
  ) {}

  async create(userALang: string, userATranslate: string): Promise<Conversation> {
    const c: Conversation = { id: randomUUID(), userALang, userATranslate, createdAtMs: Date.now() };
    await this.call(() => this.redis.set(KEY(c.id), JSON.stringify(c), 'EX', this.ttlS));
    return c;
  }

  async get(id: string): Promise<Conversation | undefined> {
    const raw = await this.call(() => this.redis.get(KEY(id)));
    return raw ? (JSON.parse(raw) as Conversation) : undefined;
  }

  async touch(id: string): Promise<boolean> {
    return (await this.call(() => this.redis.expire(KEY(id), this.ttlS))) === 1;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ConversationStoreUnavailableError(err);
    }
  }
}

/** Conversations in this process's memory, expiring after the idle TTL. */
export class MemoryConversationStore implements ConversationStore {
  private readonly entries = new Map<string, { conversation: Conversation; expiresAtMs: number }>();

  constructor(
    private readonly ttlS: number = CONVERSATION_IDLE_TTL_S,
    private readonly now: () => number = Date.now,
  ) {}

  async create(userALang: string, userATranslate: string): Promise<Conversation> {
    this.sweep();
    const c: Conversation = { id: randomUUID(), userALang, userATranslate, createdAtMs: this.now() };
    this.entries.set(c.id, { conversation: c, expiresAtMs: this.now() + this.ttlS * 1000 });
    return c;
  }

  async get(id: string): Promise<Conversation | undefined> {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expiresAtMs <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return e.conversation;
  }

  async touch(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e || e.expiresAtMs <= this.now()) return false;
    e.expiresAtMs = this.now() + this.ttlS * 1000;
    return true;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, e] of this.entries) if (e.expiresAtMs <= t) this.entries.delete(id);
  }
}
