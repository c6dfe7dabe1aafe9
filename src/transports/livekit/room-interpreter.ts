import {
  ParticipantKind, Room, RoomEvent, TrackKind, TrackSource,
  type RemoteParticipant, type RemoteTrack, type RemoteTrackPublication,
} from '@livekit/rtc-node';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { InterpreterSpec } from '../../domain/interpreters.js';
import { INTERPRETER_IDENTITY, mintInterpreterToken, removeRoomParticipant } from '../../integrations/livekit.js';
import { isRevokedFromRoom } from '../../domain/room-access.js';
import { RoomPublisher } from './room-publisher.js';
import { SpeakerStream } from './speaker-stream.js';
import { streamSessionDeps } from '../../gateway/stream-service.js';
import type { LiveConnection } from '../../realtime/live-connection.js';

export type { InterpreterSpec } from '../../domain/interpreters.js';

/** Time the interpreter may take to join a room, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Lifetime of the interpreter's own room token, in seconds (it only needs to join). */
const INTERPRETER_TOKEN_TTL_S = 600;

/**
 * Tolk's interpreter in one LiveKit room (docs/rooms.md): joins as the `agent` participant
 * `tolk-interpreter`, publishes the translated-speech track, and gives every remote participant's
 * microphone track a {@link SpeakerStream} through the stream service. Leaves when told
 * ({@link RoomInterpreter.stop}), when the room ends, or when nobody else was there for
 * `idleTimeoutMs`.
 */
export class RoomInterpreter {
  private readonly room = new Room();
  private publisher: RoomPublisher | undefined;
  private readonly speakers = new Map<string, SpeakerStream>();
  private idleTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: AppContext,
    readonly spec: InterpreterSpec,
    private readonly log: FastifyBaseLogger,
    private readonly onStopped: () => void,
  ) {}

  /** Identities of the speakers being translated right now. */
  get speakerIdentities(): string[] {
    return [...this.speakers.keys()].map((k) => k.split('/')[0] ?? k);
  }

  /**
   * Joins the room and publishes the translated-speech track.
   * @throws {Error} when the LiveKit server cannot be joined within 10 s (the interpreter is then stopped).
   */
  async start(): Promise<void> {
    const token = await mintInterpreterToken(this.ctx.config.liveKit, this.spec.roomName, INTERPRETER_TOKEN_TTL_S);
    this.room.on(RoomEvent.TrackSubscribed, this.guarded((track, publication, participant) => this.onTrack(track, publication, participant)));
    this.room.on(RoomEvent.TrackUnsubscribed, this.guarded((_track, publication, participant) => this.endSpeaker(participant.identity, publication.sid)));
    this.room.on(RoomEvent.ParticipantConnected, this.guarded((participant) => {
      this.keepOutIfRevoked(participant);
      this.armIdle();
    }));
    this.room.on(RoomEvent.ParticipantDisconnected, this.guarded((participant) => {
      for (const [key, speaker] of this.speakers) if (key.startsWith(`${participant.identity}/`)) void speaker.close();
      this.armIdle();
    }));
    this.room.on(RoomEvent.Disconnected, () => void this.stop());
    try {
      await withTimeout(this.room.connect(this.ctx.config.liveKit.url, token, { autoSubscribe: true, dynacast: false }), CONNECT_TIMEOUT_MS, 'joining the LiveKit room');
      const participant = this.room.localParticipant;
      if (!participant) throw new Error('joined the LiveKit room without a local participant');
      this.publisher = new RoomPublisher(participant, this.log);
      await withTimeout(this.publisher.start(), CONNECT_TIMEOUT_MS, 'publishing the translation track');
    } catch (err) {
      await this.stop();
      throw err;
    }
    // Tracks subscribed before the publisher existed were skipped: take them now.
    for (const participant of this.room.remoteParticipants.values()) {
      this.keepOutIfRevoked(participant);
      for (const publication of participant.trackPublications.values()) {
        if (publication.track) this.onTrack(publication.track, publication, participant);
      }
    }
    this.armIdle();
    this.log.info({ room: this.spec.roomName }, 'interpreter joined the room');
  }

  /**
   * `handler`, but an error it throws (a native failure of `@livekit/rtc-node` in this room) is
   * logged and ends this room's interpreter only, never the process.
   */
  private guarded<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        handler(...args);
      } catch (err) {
        this.log.error({ err, room: this.spec.roomName }, 'interpreter failed in this room; leaving it');
        void this.stop();
      }
    };
  }

  /**
   * Removes a participant the session revoked (its room token cannot be withdrawn, so it may come
   * back until the token expires; docs/rooms.md "Tokens and revocation").
   */
  private keepOutIfRevoked(participant: RemoteParticipant): void {
    if (participant.kind === ParticipantKind.AGENT) return;
    const identity = participant.identity;
    void (async () => {
      if (!(await isRevokedFromRoom(this.ctx.db, this.spec.roomName, identity))) return;
      this.log.warn({ participantId: identity }, 'a revoked participant joined the room again; removing it');
      await removeRoomParticipant(this.ctx.config.liveKit, this.spec.roomName, identity);
    })().catch((err: unknown) => this.log.warn({ err, participantId: identity }, 'could not remove a revoked participant'));
  }

  private onTrack(track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant): void {
    if (!this.publisher || this.stopping) return;
    if (track.kind !== TrackKind.KIND_AUDIO || publication.source !== TrackSource.SOURCE_MICROPHONE) return;
    if (participant.identity === INTERPRETER_IDENTITY || participant.kind === ParticipantKind.AGENT) return;
    const key = `${participant.identity}/${publication.sid ?? ''}`;
    if (this.speakers.has(key)) return;
    const spec = this.spec;
    const speakerName = participant.name || participant.identity;
    const grant = { ...spec.grant, binding: { ...spec.grant.binding, participantId: participant.identity } };
    const log = this.log.child({ participantId: participant.identity });
    const deps = { session: streamSessionDeps(this.ctx), hold: (connection: LiveConnection) => this.ctx.sessions.hold(grant.binding, connection, log) };
    const speaker = new SpeakerStream(deps, track, this.publisher, {
      grant,
      sourceLanguage: spec.sourceLanguage, targetLanguage: spec.targetLanguage, voiceType: spec.voiceType,
      label: spec.labelSpeakers ? { participantId: participant.identity, speakerName } : undefined,
      trackSid: publication.sid, simultaneous: spec.simultaneous === true,
    }, log, () => {
      if (this.speakers.get(key) === speaker) this.speakers.delete(key);
    });
    this.speakers.set(key, speaker);
  }

  private endSpeaker(identity: string, trackSid: string | undefined): void {
    void this.speakers.get(`${identity}/${trackSid ?? ''}`)?.close();
  }

  /** Leaves after `idleTimeoutMs` while no other participant is in the room. */
  private armIdle(): void {
    const others = [...this.room.remoteParticipants.values()].filter((p) => p.kind !== ParticipantKind.AGENT);
    if (others.length > 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    this.idleTimer ??= setTimeout(() => {
      this.log.info({ room: this.spec.roomName }, 'interpreter leaves an empty room');
      void this.stop();
    }, this.spec.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Ends every speaker's stream (their utterances in flight finish), then leaves the room. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.idleTimer);
      await Promise.allSettled([...this.speakers.values()].map((s) => s.close()));
      await this.publisher?.close();
      await this.room.disconnect().catch((err: unknown) => this.log.warn({ err }, 'interpreter could not leave the room cleanly'));
      this.onStopped();
    })();
    return this.stopping;
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
