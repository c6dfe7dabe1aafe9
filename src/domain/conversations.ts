import { randomUUID } from 'node:crypto';
import type { StateStore } from '../state/store.js';

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

/**
 * Conversations as a typed layer over a {@link StateStore} (memory or Redis): one JSON entry per
 * conversation under its id, expiring after the idle TTL; the store does the expiry. Every store
 * failure becomes {@link ConversationStoreUnavailableError}.
 */
export class StateConversationStore implements ConversationStore {
  /**
   * @param state - keyed by conversation id alone: give it its own prefix (the server's Redis one
   *   is `tolk:conversation:`, docs/conversations.md).
   * @param ttlS - the idle TTL, in seconds.
   */
  constructor(
    private readonly state: StateStore,
    private readonly ttlS: number = CONVERSATION_IDLE_TTL_S,
    private readonly now: () => number = Date.now,
  ) {}

  async create(userALang: string, userATranslate: string): Promise<Conversation> {
    const c: Conversation = { id: randomUUID(), userALang, userATranslate, createdAtMs: this.now() };
    await this.call(() => this.state.set(c.id, JSON.stringify(c), this.ttlS * 1000));
    return c;
  }

  async get(id: string): Promise<Conversation | undefined> {
    const raw = await this.call(() => this.state.get(id));
    return raw ? (JSON.parse(raw) as Conversation) : undefined;
  }

  async touch(id: string): Promise<boolean> {
    return this.call(() => this.state.touch(id, this.ttlS * 1000));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ConversationStoreUnavailableError(err);
    }
  }
}
