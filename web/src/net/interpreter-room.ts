/**
 * A LiveKit room with Tolk's interpreter in it (docs/rooms.md), through `livekit-client`: joins with
 * a spec-001 `url` + `token`, publishes the microphone, and reports the interpreter's transcripts
 * (data packets), its `translation` audio track, whether the browser lets it play, and the
 * connection state. The page decides what to show; this module only talks to LiveKit.
 */
import {
  ConnectionState,
  DisconnectReason,
  Room,
  RoomEvent,
  Track,
  type Participant,
  type RemoteTrack,
  type RemoteTrackPublication,
} from 'livekit-client';
import type { RoomTranscript } from '../api/room-messages';
import { parseInterpreterMessage } from '../api/room-messages';
import type { RoomAccess } from '../api/room-session';

/** The interpreter's participant identity. */
export const INTERPRETER_IDENTITY = 'tolk-interpreter';
/** The name of the interpreter's audio track. */
export const TRANSLATION_TRACK_NAME = 'translation';

/** The connection as the page shows it (the same values as the live page's `connection-state`). */
export type RoomState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What the room reports. Every callback may be called many times. */
export interface InterpreterRoomEvents {
  onState(state: RoomState): void;
  onTranscript(transcript: RoomTranscript): void;
  /** The translation's `<audio>` element when the track is subscribed, `undefined` when it goes. */
  onTranslationAudio(element: HTMLMediaElement | undefined): void;
  /** `true` when the browser refused to start playback without a click (autoplay policy). */
  onPlaybackBlocked(blocked: boolean): void;
  onInterpreterSpeaking(speaking: boolean): void;
  onInterpreterPresent(present: boolean): void;
  /** The room ended without `leave()`: why, in words the page can show. */
  onDisconnected(reason: string): void;
}

const STATES: Record<ConnectionState, RoomState> = {
  [ConnectionState.Connecting]: 'connecting',
  [ConnectionState.Connected]: 'open',
  [ConnectionState.Reconnecting]: 'reconnecting',
  [ConnectionState.SignalReconnecting]: 'reconnecting',
  [ConnectionState.Disconnected]: 'closed',
};

/** Words for why the server ended the room. */
export function disconnectMessage(reason: DisconnectReason | undefined): string {
  switch (reason) {
    case DisconnectReason.PARTICIPANT_REMOVED:
      return 'You were removed from the room (the session was revoked).';
    case DisconnectReason.ROOM_DELETED:
    case DisconnectReason.ROOM_CLOSED:
      return 'The room was closed.';
    case DisconnectReason.DUPLICATE_IDENTITY:
      return 'The same token joined from somewhere else.';
    case DisconnectReason.SERVER_SHUTDOWN:
      return 'The LiveKit server shut down.';
    case DisconnectReason.JOIN_FAILURE:
      return 'The room could not be joined.';
    default:
      return 'The connection to the room was lost.';
  }
}

/** One joined room; `leave()` ends it. */
export class InterpreterRoom {
  private readonly room = new Room({ adaptiveStream: false, dynacast: false });
  private left = false;

  constructor(private readonly events: InterpreterRoomEvents) {
    const room = this.room;
    room.on(RoomEvent.ConnectionStateChanged, (state) => {
      events.onState(STATES[state]);
      // Back after a reconnect: say again whether the interpreter is in the room.
      if (state === ConnectionState.Connected) this.reportPresence();
    });
    // Only the interpreter's packets: any participant can publish data on the same topic.
    room.on(RoomEvent.DataReceived, (payload, participant) => {
      const transcript = parseInterpreterMessage(payload, participant?.identity, INTERPRETER_IDENTITY);
      if (transcript) events.onTranscript(transcript);
    });
    room.on(RoomEvent.TrackSubscribed, (track, publication) => this.attach(track, publication));
    room.on(RoomEvent.TrackUnsubscribed, (track, publication) => {
      if (!isTranslation(track, publication)) return;
      for (const element of track.detach()) element.remove();
      events.onTranslationAudio(undefined);
    });
    room.on(RoomEvent.AudioPlaybackStatusChanged, () => events.onPlaybackBlocked(!room.canPlaybackAudio));
    room.on(RoomEvent.ActiveSpeakersChanged, (speakers: Participant[]) =>
      events.onInterpreterSpeaking(speakers.some((p) => p.identity === INTERPRETER_IDENTITY)),
    );
    room.on(RoomEvent.ParticipantConnected, () => this.reportPresence());
    room.on(RoomEvent.ParticipantDisconnected, () => this.reportPresence());
    room.on(RoomEvent.Disconnected, (reason) => {
      if (!this.left) events.onDisconnected(disconnectMessage(reason));
    });
  }

  /**
   * Connects and publishes the microphone (echo cancellation and noise suppression on, LiveKit's
   * defaults).
   * @throws {Error} when the room cannot be joined (bad token, unreachable server) or the microphone
   * is refused; the room is left in both cases.
   */
  async join(access: RoomAccess): Promise<void> {
    try {
      await this.room.connect(access.url, access.token, { autoSubscribe: true });
      this.reportPresence();
      await this.room.localParticipant.setMicrophoneEnabled(true);
    } catch (error) {
      await this.leave();
      throw error;
    }
  }

  /** Mutes or unmutes the published microphone. */
  async setMicrophone(enabled: boolean): Promise<void> {
    await this.room.localParticipant.setMicrophoneEnabled(enabled);
  }

  /** Starts audio playback from a click, when the autoplay policy blocked it. */
  async startAudio(): Promise<void> {
    await this.room.startAudio();
    this.events.onPlaybackBlocked(!this.room.canPlaybackAudio);
  }

  /** Leaves the room and stops the microphone. */
  async leave(): Promise<void> {
    this.left = true;
    await this.room.disconnect(true);
  }

  private attach(track: RemoteTrack, publication: RemoteTrackPublication): void {
    if (!isTranslation(track, publication)) return;
    const element = track.attach();
    element.dataset.testid = 'translation-audio';
    this.events.onTranslationAudio(element);
    this.events.onPlaybackBlocked(!this.room.canPlaybackAudio);
  }

  private reportPresence(): void {
    this.events.onInterpreterPresent(this.room.remoteParticipants.has(INTERPRETER_IDENTITY));
  }
}

function isTranslation(track: RemoteTrack, publication: RemoteTrackPublication): boolean {
  return track.kind === Track.Kind.Audio && publication.trackName === TRANSLATION_TRACK_NAME;
}
