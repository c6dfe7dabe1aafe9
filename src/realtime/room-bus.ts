/**
 * The room bus (docs/architecture.md "Processes"): what the processes serving one conversation (spec 003
 * Flow 2) share — its membership, and the events each process fans out to its own sockets. The
 * embedded default ({@link MemoryRoomBus}) keeps membership in this process and publishes nothing;
 * with `REDIS_URL` the Redis implementation (`room-bus-redis.ts`) makes membership global and
 * carries events between processes over pub/sub.
 */

/** A participant as every process sees it. */
export interface RoomMember {
  readonly id: string;
  /** The language the participant speaks and reads (`?language=`), as they asked for it. */
  readonly language: string;
}

/**
 * A change of membership. `version` increases with every change of the room's membership, so a
 * process can drop a change older than what a participant has already been told (events of
 * different processes may arrive in any order).
 */
export type RoomMembershipEvent =
  | { type: 'joined'; member: RoomMember; count: number; version: number }
  | { type: 'left'; memberId: string; count: number; version: number };

/**
 * What a room's processes tell each other. Finals and speech are produced once, by the speaker's
 * process, for each listener language (`language` is the primary subtag, e.g. `es`); every process
 * delivers them to its own participants of that language.
 */
export type RoomEvent =
  | RoomMembershipEvent
  | {
    type: 'final'; language: string; speakerId: string; utteranceId: string;
    original: string; translation: string;
    /** End of speech → translation, measured by the speaker's process. */
    latencyMs: number;
  }
  /** A block of translated speech, s16le mono 16 kHz; `streamId` names one utterance in one language. */
  | { type: 'speech'; language: string; streamId: string; speakerId: string; pcm: Buffer }
  /** The end of a speech stream (sent even when synthesis failed). */
  | { type: 'speech-end'; language: string; streamId: string };

/** The outcome of a join: who was there before (oldest first) and the room's new size. */
export interface RoomJoin {
  others: RoomMember[];
  count: number;
  version: number;
}

/** Stops a subscription. */
export type RoomUnsubscribe = () => Promise<void>;

/**
 * Membership and events of conversation rooms, shared by the processes that serve them.
 * Implementations deliver to `subscribe` handlers only the events of *other* processes: a process
 * hands its own events to its participants itself.
 */
export interface RoomBus {
  /**
   * Starts receiving the events other processes publish for `roomId`; resolves once they will be
   * received.
   * @throws {import('../domain/conversations.js').ConversationStoreUnavailableError} when the
   * shared store is unreachable.
   */
  subscribe(roomId: string, onEvent: (event: RoomEvent) => void): Promise<RoomUnsubscribe>;
  /**
   * Adds a member (other processes get a `joined` event).
   * @throws {import('../domain/conversations.js').ConversationStoreUnavailableError}
   */
  join(roomId: string, member: RoomMember): Promise<RoomJoin>;
  /**
   * Removes a member (other processes get a `left` event).
   * @returns the new size and version, or undefined when `memberId` was not a member.
   * @throws {import('../domain/conversations.js').ConversationStoreUnavailableError}
   */
  leave(roomId: string, memberId: string): Promise<{ count: number; version: number } | undefined>;
  /**
   * The room's members, oldest first.
   * @throws {import('../domain/conversations.js').ConversationStoreUnavailableError}
   */
  members(roomId: string): Promise<RoomMember[]>;
  /** Sends a final or speech event to the other processes; never throws (failures are logged). */
  publish(roomId: string, event: RoomEvent): void;
  /** Removes this process's remaining members and stops receiving. */
  close(): Promise<void>;
}

/** The embedded default: one process, membership in memory, nothing to publish. */
export class MemoryRoomBus implements RoomBus {
  private readonly rooms = new Map<string, { version: number; members: Map<string, RoomMember> }>();

  async subscribe(): Promise<RoomUnsubscribe> {
    return async () => undefined;
  }

  async join(roomId: string, member: RoomMember): Promise<RoomJoin> {
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = { version: 0, members: new Map() }));
    const others = [...room.members.values()].filter((m) => m.id !== member.id);
    room.members.set(member.id, { id: member.id, language: member.language });
    return { others, count: room.members.size, version: ++room.version };
  }

  async leave(roomId: string, memberId: string): Promise<{ count: number; version: number } | undefined> {
    const room = this.rooms.get(roomId);
    if (!room?.members.delete(memberId)) return undefined;
    const result = { count: room.members.size, version: ++room.version };
    if (room.members.size === 0) this.rooms.delete(roomId);
    return result;
  }

  async members(roomId: string): Promise<RoomMember[]> {
    return [...(this.rooms.get(roomId)?.members.values() ?? [])];
  }

  publish(): void {
    // One process: nobody else to tell.
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }
}
