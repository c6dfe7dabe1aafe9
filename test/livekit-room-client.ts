import { EventEmitter } from 'node:events';
import {
  AudioFrame, AudioSource, AudioStream, LocalAudioTrack, Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource,
  type RemoteTrack,
} from '@livekit/rtc-node';

/** RMS (s16) above which a received 10 ms frame counts as speech (espeak and LibriVox speech are > 1,000; silence and Opus noise < 100). */
export const SPEECH_RMS = 300;
const PUBLISH_RATE_HZ = 16_000;
const FRAME_SAMPLES = PUBLISH_RATE_HZ / 100;

/** A data message as the test client received it. */
export interface ReceivedMessage {
  message: Record<string, unknown>;
  from: string | undefined;
  topic: string | undefined;
  receivedAtMs: number;
}

/** A `lk.transcription` text stream as received. */
export interface ReceivedText {
  text: string;
  attributes: Record<string, string>;
  from: string;
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/**
 * A real rtc-node participant for the tests: joins with a token, records every data message,
 * `lk.transcription` text stream and the wall time of every 10 ms frame of the interpreter's audio
 * that carries speech energy; publishes audio at real-time pace. `waitFor` resolves on events.
 */
export class TestRoomClient {
  readonly room = new Room();
  readonly messages: ReceivedMessage[] = [];
  readonly texts: ReceivedText[] = [];
  /** Wall times (ms) of received interpreter frames with speech energy. */
  readonly speechFrameTimesMs: number[] = [];
  audioSampleRateHz = 0;
  disconnected = false;
  private readonly changes = new EventEmitter();
  private source: AudioSource | undefined;

  constructor() {
    this.changes.setMaxListeners(100);
    this.room.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      this.messages.push({ message: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>, from: participant?.identity, topic, receivedAtMs: Date.now() });
      this.changes.emit('change');
    });
    this.room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
      if (track.kind === TrackKind.KIND_AUDIO && participant.identity === 'tolk-interpreter') void this.listen(track);
    });
    this.room.on(RoomEvent.ParticipantConnected, () => this.changes.emit('change'));
    this.room.on(RoomEvent.Disconnected, () => {
      this.disconnected = true;
      this.changes.emit('change');
    });
    this.room.registerTextStreamHandler('lk.transcription', (reader, participant) => {
      void reader.readAll().then((text) => {
        this.texts.push({ text, attributes: reader.info.attributes ?? {}, from: participant.identity });
        this.changes.emit('change');
      });
    });
  }

  async connect(url: string, token: string): Promise<void> {
    await this.room.connect(url, token, { autoSubscribe: true, dynacast: false });
  }

  /** Whether Tolk's interpreter (`tolk-interpreter`) is in the room now. */
  hasInterpreter(): boolean {
    return [...this.room.remoteParticipants.values()].some((p) => p.identity === 'tolk-interpreter');
  }

  /** Resolves once the interpreter is in the room: it joins after the first participant (docs/rooms.md). */
  async waitForInterpreter(timeoutMs = 20_000): Promise<void> {
    await this.waitFor('the interpreter to join the room', () => this.hasInterpreter(), timeoutMs);
  }

  private async listen(track: RemoteTrack): Promise<void> {
    const reader = new AudioStream(track, { sampleRate: 48_000, numChannels: 1 }).getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done || !value) return;
      this.audioSampleRateHz = value.sampleRate;
      if (rms(value.data) > SPEECH_RMS) {
        this.speechFrameTimesMs.push(Date.now());
        this.changes.emit('change');
      }
    }
  }

  /** Publishes a microphone track and plays `segments` (16 kHz mono s16; `silenceMs` numbers are pauses) at real-time pace. */
  async speak(segments: Array<Int16Array | number>): Promise<void> {
    if (!this.source) {
      this.source = new AudioSource(PUBLISH_RATE_HZ, 1);
      const options = new TrackPublishOptions();
      options.source = TrackSource.SOURCE_MICROPHONE;
      await this.room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('microphone', this.source), options);
    }
    for (const segment of segments) {
      const samples = typeof segment === 'number' ? new Int16Array((segment * PUBLISH_RATE_HZ) / 1000) : segment;
      // 10 ms frames, paced by the source's queue: captureFrame waits while it is full.
      for (let i = 0; i + FRAME_SAMPLES <= samples.length; i += FRAME_SAMPLES) {
        await this.source.captureFrame(new AudioFrame(samples.slice(i, i + FRAME_SAMPLES), PUBLISH_RATE_HZ, 1, FRAME_SAMPLES));
      }
    }
  }

  /** Data messages of `type`, in arrival order. */
  ofType(type: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.message.type === type);
  }

  /**
   * Resolves once `condition` holds, checked on every event the client receives.
   * @throws {Error} naming `what` when it does not hold within `timeoutMs`.
   */
  waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.changes.off('change', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.changes.off('change', check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.changes.on('change', check);
    });
  }

  async close(): Promise<void> {
    await this.source?.close().catch(() => {});
    await this.room.disconnect().catch(() => {});
  }
}
