import type { FastifyBaseLogger } from 'fastify';
import type { VoiceName } from '../common/voices.js';
import type { SessionKeyGrant } from './session-keys.js';

/**
 * The contract between a session's LiveKit room and the interpreters that serve it (docs/rooms.md):
 * what the platform and rooms surfaces ask for, implemented in `src/transports/livekit/`
 * (`InterpreterManager`, `RedisInterpreterPlacement`, `InterpreterDispatch`). It lives here, below
 * the surfaces and the process context, so neither has to import a transport to name it
 * (docs/architecture.md "Layers").
 */

/** spec 001 `voice_type`: `clone` (default), `female` or `male`. */
export type VoiceType = 'clone' | VoiceName;

/** What an interpreter serves: one platform session's room. */
export interface InterpreterSpec {
  /** The LiveKit room (`sess_…` for spec 000, `api-…` for spec 001). */
  roomName: string;
  /**
   * The grant of the API key that created the session, with the session's binding; each speaker's
   * stream uses it with `participantId` set to the speaker's identity.
   */
  grant: SessionKeyGrant & { binding: NonNullable<SessionKeyGrant['binding']> };
  sourceLanguage: string;
  targetLanguage: string;
  voiceType: VoiceType;
  /** Spec-000 rooms: data messages name the speaker (`speaker_name`, `participant_id`). */
  labelSpeakers: boolean;
  /** Simultaneous mode for every speaker (docs/rooms.md "Simultaneous mode"); absent: off. */
  simultaneous?: boolean | undefined;
  /** The interpreter leaves when no other participant was in the room for this long, in ms. */
  idleTimeoutMs: number;
}

/** An interpreter this process runs, as {@link Interpreters.list} reports it. */
export interface RunningInterpreter {
  roomName: string;
  sessionId: string;
  /** Identities of the participants being translated right now. */
  speakers: string[];
}

/**
 * Where a session's room gets its interpreter (docs/rooms.md): in this process
 * (`InterpreterManager`), or on whichever gateway claims the room in Redis
 * (`RedisInterpreterPlacement`), which takes it over when that gateway dies.
 */
export interface Interpreters {
  /**
   * Makes sure an interpreter serves `spec.roomName` and resolves once one does (here, or on
   * another gateway that already claimed the room).
   * @throws {Error} when LiveKit is not configured or the room cannot be created or joined.
   */
  start(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void>;
  /** The interpreters of this process. */
  list(): RunningInterpreter[];
  /** Leaves every room (server shutdown): in a scale-out another gateway takes them over. */
  close(): Promise<void>;
  /** Whether a room this process cannot run is placed on another gateway (true with Redis). */
  readonly placesElsewhere: boolean;
}

/**
 * When a room's interpreter joins: at its first participant (docs/rooms.md "How the interpreter
 * joins"); implemented by `InterpreterDispatch`.
 */
export interface InterpreterDispatcher {
  /** Rooms created here and waiting for their first participant. */
  readonly waitingRooms: number;
  /**
   * Refuses a new room when this process runs (or waits for) `TOLK_MAX_INTERPRETERS` interpreters
   * and no other gateway can take it.
   * @throws {Error} `InterpreterCapacityError` when full.
   */
  checkCapacity(): void;
  /**
   * Creates the room on the LiveKit server and waits for its first participant; resolves at once.
   * @throws {Error} when the LiveKit server cannot be reached or refuses.
   */
  prepare(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void>;
  /** A participant joined `roomName` (LiveKit's `participant_joined` webhook). */
  participantJoined(roomName: string, identity?: string): Promise<void>;
  /** `roomName` ended on the LiveKit server (webhook `room_finished`): it waits no more. */
  roomFinished(roomName: string): void;
  /** Stops waiting (server shutdown). */
  close(): void;
}
