import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { isRevokedFromRoom } from '../../domain/room-access.js';
import { createRoom, removeRoomParticipant, roomOccupancy } from '../../integrations/livekit.js';
import { InterpreterCapacityError } from './interpreter-manager.js';
import type { InterpreterDispatcher, InterpreterSpec } from '../../domain/interpreters.js';

/** Joins tried for one room before it is given up (each join may take up to 10 s). */
const MAX_JOIN_ATTEMPTS = 3;

interface WaitingRoom {
  spec: InterpreterSpec;
  log: FastifyBaseLogger;
  /** When the room is given up if nobody joined (epoch ms): LiveKit closes it then too. */
  untilMs: number;
  attempts: number;
}

/**
 * When a session's interpreter joins its room (docs/rooms.md "How the interpreter joins"): a
 * session's request only creates the room and answers; the interpreter joins once the first
 * participant is there — told by LiveKit's `participant_joined` webhook
 * ({@link InterpreterDispatch.participantJoined}), or seen by polling the waiting rooms' occupancy
 * (one server API call for all of them every `TOLK_ROOM_POLL_MS`). Rooms waiting here count
 * against `TOLK_MAX_INTERPRETERS` like running interpreters.
 */
export class InterpreterDispatch implements InterpreterDispatcher {
  private readonly waiting = new Map<string, WaitingRoom>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly ctx: () => AppContext) {}

  /** Rooms created here and waiting for their first participant. */
  get waitingRooms(): number {
    return this.waiting.size;
  }

  /**
   * Refuses a new room when this process runs (or waits for) `TOLK_MAX_INTERPRETERS` interpreters
   * and no other gateway can take it (no Redis).
   * @throws {InterpreterCapacityError} when full.
   */
  checkCapacity(): void {
    const ctx = this.ctx();
    if (ctx.interpreters.placesElsewhere) return;
    if (ctx.interpreters.list().length + this.waiting.size >= ctx.config.maxInterpreters) throw new InterpreterCapacityError(ctx.config.maxInterpreters);
  }

  /**
   * Creates `spec.roomName` on the LiveKit server (LiveKit closes it `idleTimeoutMs` after it was
   * last empty) and waits for its first participant; resolves at once.
   * @throws {Error} when the LiveKit server cannot be reached within 5 s or refuses.
   */
  async prepare(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
    if (this.closed) throw new Error('the server is shutting down');
    await createRoom(this.ctx().config.liveKit, spec.roomName, Math.ceil(spec.idleTimeoutMs / 1000));
    this.waiting.set(spec.roomName, { spec, log, untilMs: Date.now() + spec.idleTimeoutMs, attempts: 0 });
    this.schedule();
  }

  /**
   * `identity` joined `roomName` (LiveKit webhook, or seen by the poll): a revoked identity is
   * removed again; anyone else brings the room's interpreter in when it is still waiting.
   * @throws {Error} when the revoked participant cannot be removed (LiveKit unreachable).
   */
  async participantJoined(roomName: string, identity?: string): Promise<void> {
    if (identity && (await isRevokedFromRoom(this.ctx().db, roomName, identity))) {
      await removeRoomParticipant(this.ctx().config.liveKit, roomName, identity);
      return;
    }
    const room = this.waiting.get(roomName);
    if (!room) return;
    this.waiting.delete(roomName);
    room.attempts++;
    try {
      await this.ctx().interpreters.start(room.spec, room.log);
    } catch (err) {
      room.log.error({ err, room: roomName, attempt: room.attempts }, 'the interpreter could not join the room');
      if (!(err instanceof InterpreterCapacityError) && room.attempts < MAX_JOIN_ATTEMPTS && !this.closed) {
        this.waiting.set(roomName, room);
        this.schedule();
      }
    }
  }

  /** `roomName` ended on the LiveKit server (webhook `room_finished`): it waits no more. */
  roomFinished(roomName: string): void {
    this.waiting.delete(roomName);
  }

  /** Stops waiting (server shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.waiting.clear();
  }

  private schedule(): void {
    if (this.timer || this.closed || this.waiting.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const log = [...this.waiting.values()][0]?.log;
      void this.poll().catch((err: unknown) => log?.warn({ err }, 'LiveKit room poll failed (retrying)')).finally(() => this.schedule());
    }, this.ctx().config.roomPollMs);
    this.timer.unref();
  }

  /** Gives up rooms past their wait, then brings interpreters into the rooms someone joined. */
  private async poll(): Promise<void> {
    const now = Date.now();
    for (const [name, room] of this.waiting) if (room.untilMs < now) this.waiting.delete(name);
    const occupancy = await roomOccupancy(this.ctx().config.liveKit, [...this.waiting.keys()]);
    const joined: string[] = [];
    for (const name of [...this.waiting.keys()]) {
      const count = occupancy.get(name);
      if (count === undefined) this.waiting.delete(name); // LiveKit closed it
      else if (count > 0) joined.push(name);
    }
    await Promise.all(joined.map((name) => this.participantJoined(name)));
  }
}
