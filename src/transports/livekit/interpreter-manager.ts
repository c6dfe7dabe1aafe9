import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { createRoom } from '../../integrations/livekit.js';
import type { KeyPrincipal } from '../../domain/api-keys.js';
import type { SessionRecord } from '../../domain/sessions.js';
import { RoomInterpreter } from './room-interpreter.js';
import type { Interpreters, InterpreterSpec, RunningInterpreter } from '../../domain/interpreters.js';

export type { Interpreters, RunningInterpreter } from '../../domain/interpreters.js';
import type { VoiceType } from './voice-choice.js';

/** This process runs `TOLK_MAX_INTERPRETERS` interpreters already (docs/rooms.md "Limits"). */
export class InterpreterCapacityError extends Error {
  constructor(readonly max: number) {
    super(`This server runs its maximum of ${max} LiveKit interpreters (TOLK_MAX_INTERPRETERS); retry later`);
    this.name = 'InterpreterCapacityError';
  }
}

/**
 * The LiveKit interpreters of this process, one per room (docs/architecture.md "Processes"): start one for a
 * room, stop it, list them. The single place that knows which rooms this process interprets, so a
 * placement or failover layer can be added on top (start here when another process's lease lapsed).
 */
export class InterpreterManager implements Interpreters {
  readonly placesElsewhere = false;
  private readonly interpreters = new Map<string, RoomInterpreter>();
  private closed = false;
  /** Rooms being left because {@link stop} was called (not because the room emptied). */
  private readonly stopping = new Set<string>();

  /**
   * @param ctx - the process's context, read when an interpreter starts.
   * @param onStopped - an interpreter of this process left its room: by itself (room empty or
   *   ended, `byShutdown` false) or because this process shuts down or was told to stop.
   */
  constructor(
    private readonly ctx: () => AppContext,
    private readonly onStopped: (roomName: string, byShutdown: boolean) => void = () => {},
  ) {}

  /**
   * Puts an interpreter into `spec.roomName` (created beforehand on the LiveKit server) and resolves
   * once it joined. Starting a room that already has one is a no-op.
   * @param log - where the interpreter logs (bound to the room and session).
   * Creates the room on the LiveKit server first (LiveKit closes it `idleTimeoutMs` after the last
   * participant left).
   * @throws {InterpreterCapacityError} when this process runs `TOLK_MAX_INTERPRETERS` already.
   * @throws {Error} when LiveKit is not configured (`LIVEKIT_URL`), the manager is closed, or the
   *   room cannot be created or joined (5 s and 10 s timeouts).
   */
  async start(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
    if (!this.ctx().config.liveKit.configured) throw new Error('LiveKit is not configured: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
    if (this.closed) throw new Error('the interpreter manager is closed');
    if (this.interpreters.has(spec.roomName)) return;
    if (!this.hasCapacity()) throw new InterpreterCapacityError(this.ctx().config.maxInterpreters);
    await createRoom(this.ctx().config.liveKit, spec.roomName, Math.ceil(spec.idleTimeoutMs / 1000));
    if (this.interpreters.has(spec.roomName)) return;
    const bound = log.child({ room: spec.roomName, sessionId: spec.grant.binding.sessionId });
    const interpreter: RoomInterpreter = new RoomInterpreter(this.ctx(), spec, bound, () => {
      if (this.interpreters.get(spec.roomName) !== interpreter) return;
      this.interpreters.delete(spec.roomName);
      this.onStopped(spec.roomName, this.closed || this.stopping.has(spec.roomName));
    });
    this.interpreters.set(spec.roomName, interpreter);
    await interpreter.start();
  }

  /** Takes the interpreter out of `roomName` (its utterances in flight finish); no-op when there is none. */
  async stop(roomName: string): Promise<void> {
    this.stopping.add(roomName);
    try {
      await this.interpreters.get(roomName)?.stop();
    } finally {
      this.stopping.delete(roomName);
    }
  }

  /** Whether this process can start one more interpreter (`TOLK_MAX_INTERPRETERS`). */
  hasCapacity(): boolean {
    return this.interpreters.size < this.ctx().config.maxInterpreters;
  }

  /** Whether this process has an interpreter in `roomName`. */
  has(roomName: string): boolean {
    return this.interpreters.has(roomName);
  }

  /** The interpreters of this process. */
  list(): RunningInterpreter[] {
    return [...this.interpreters.values()].map((i) => ({
      roomName: i.spec.roomName, sessionId: i.spec.grant.binding.sessionId, speakers: i.speakerIdentities,
    }));
  }

  /** Stops every interpreter (server shutdown); later starts fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.interpreters.values()].map((i) => i.stop()));
  }
}

/** How long a session's room waits for its participants, in ms: LiveKit's empty timeout and the interpreter's. */
export const ROOM_IDLE_TIMEOUT_MS = 300_000;

/**
 * The interpreter of a platform session's room: it speaks for the API key that created the
 * session (`principal`), translates the session's language pair, and binds each speaker's stream
 * to the session (persistence, usage, glossary, revocation as for a session's `/vt` stream).
 * @param o.labelSpeakers - spec-000 rooms name the speaker in the data messages; spec 001 does not.
 */
export function sessionInterpreterSpec(
  session: SessionRecord, participantId: string, principal: KeyPrincipal, o: { voiceType: VoiceType; labelSpeakers: boolean; simultaneous?: boolean },
): InterpreterSpec {
  return {
    roomName: session.roomName,
    grant: { ...principal, binding: { organizationId: session.organizationId, sessionId: session.id, participantId } },
    sourceLanguage: session.sourceLang, targetLanguage: session.targetLang,
    voiceType: o.voiceType, labelSpeakers: o.labelSpeakers, idleTimeoutMs: ROOM_IDLE_TIMEOUT_MS,
    ...(o.simultaneous ? { simultaneous: true } : {}),
  };
}
