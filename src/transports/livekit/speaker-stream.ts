import { AudioStream, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import type { FastifyBaseLogger } from 'fastify';
import type { VoiceName } from '../../common/voices.js';
import type { StreamRequest } from '../../core/stream-request.js';
import { StreamSession, type StreamEnd, type StreamSessionDeps, type StreamTransport } from '../../core/stream-session.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { LiveConnection } from '../../realtime/live-connection.js';
import { OUTPUT_SAMPLE_RATE_HZ, type RoomPublisher } from './room-publisher.js';
import { SpeakerRoomEvents, type SpeakerRoomEventsOptions } from './speaker-room-events.js';
import { frameRms, VoiceCollector, type CollectedAudio, type VoiceType } from './voice-choice.js';

/** Rate the speaker's microphone is read at, in Hz: the track's own (Opus) rate, also the request's. */
const INPUT_SAMPLE_RATE_HZ = OUTPUT_SAMPLE_RATE_HZ;
/** RMS (s16) over which a 10 ms frame counts as voiced (to choose a `clone` voice, and to open a stream). */
const VOICED_FRAME_RMS = 300;
/** RMS (s16) under which a frame is silence: it does not count against the idle timeout. */
const SILENT_FRAME_RMS = 100;
/** Worker backlog over which microphone audio is dropped rather than queued without bound, in ms. */
const MAX_BACKLOG_MS = 5000;

/** What one speaker's stream translates, for whom, and how its room shows it. */
export interface SpeakerStreamOptions extends SpeakerRoomEventsOptions {
  /** The session's grant, bound to this speaker (`binding.participantId` = the speaker's identity). */
  grant: SessionKeyGrant;
  voiceType: VoiceType;
}

/** What a {@link SpeakerStream} needs of its process. */
export interface SpeakerStreamDeps {
  session: StreamSessionDeps;
  /**
   * Keeps the speaker present in its platform session between its streams (revoking the
   * participant calls `connection`); resolves to the release, which completes the session when the
   * speaker was its last. See `SessionRuntime.hold`.
   */
  hold(connection: LiveConnection): Promise<() => Promise<void>>;
}

/**
 * One remote speaker's microphone in a LiveKit room, translated (docs/rooms.md): reads the track at
 * 48 kHz and runs it as a {@link StreamSession} of surface `livekit` (admission, session, glossary,
 * usage, early audio, revocation, idle timeout, `tolk_streams_active`, a lost worker replaced),
 * mapping the session's events onto the room — spec-001 data messages, `lk.transcription` text
 * streams and the translated speech. A microphone sends frames whether anyone speaks or not, so its
 * silence does not keep a stream alive: after `TOLK_IDLE_AUDIO_TIMEOUT_S` of it the stream is given
 * back — the speaker stays present in its session, which does not complete — and the next voiced
 * frame opens another (same voice). Ends when the track ends, on
 * {@link SpeakerStream.close}, on a revocation (the key or participant behind it) or a refusal.
 */
export class SpeakerStream {
  private session: StreamSession | undefined;
  private ended = false;
  private readonly reader: ReadableStreamDefaultReader<AudioFrame>;
  /** Audio before the first stream, kept to choose the voice; it then opens the stream. */
  private readonly collector: VoiceCollector;
  /** The voice chosen when the first stream opened. */
  private voice: VoiceName | undefined;
  /** The session's events as the room's messages and speech. */
  private readonly renderer: SpeakerRoomEvents;
  /** Releases the speaker's presence in its session. */
  private held: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly deps: SpeakerStreamDeps,
    track: RemoteTrack,
    private readonly publisher: RoomPublisher,
    private readonly options: SpeakerStreamOptions,
    private readonly log: FastifyBaseLogger,
    private readonly onEnded: () => void,
  ) {
    this.reader = new AudioStream(track, { sampleRate: INPUT_SAMPLE_RATE_HZ, numChannels: 1 }).getReader();
    this.collector = new VoiceCollector(options.voiceType, INPUT_SAMPLE_RATE_HZ);
    this.renderer = new SpeakerRoomEvents(publisher, options, log);
    void this.read();
  }

  /** Reads the microphone until the track or the stream ends. */
  private async read(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done || this.ended) break;
        // A copy: the frame's memory belongs to the FFI layer.
        const pcm = Buffer.from(new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength));
        this.onAudio(pcm, (value.samplesPerChannel * 1000) / value.sampleRate, frameRms(value.data));
      }
    } catch (err) {
      if (!this.ended) this.log.warn({ err }, 'speaker track read failed');
    } finally {
      void this.close();
    }
  }

  private onAudio(pcm: Buffer, durationMs: number, rms: number): void {
    const session = this.session;
    if (session && (session.state === 'opening' || session.state === 'streaming')) {
      if ((session.backlogMs ?? 0) > MAX_BACKLOG_MS) return;
      return session.pushAudio(pcm, { keepsAlive: rms >= SILENT_FRAME_RMS });
    }
    if (this.ended) return;
    if (this.voice) {
      // An idle stream was given back: the next voiced frame opens another.
      if (rms > VOICED_FRAME_RMS) this.open(this.voice, [{ pcm, arrivedAtMs: Date.now() }]);
      return;
    }
    const chosen = this.collector.push(pcm, durationMs, rms > VOICED_FRAME_RMS);
    if (!chosen) return;
    this.log.info({ voice: chosen.voice, pitchHz: chosen.pitchHz === undefined ? null : Math.round(chosen.pitchHz) }, 'interpreter voice chosen');
    this.open(chosen.voice, chosen.audio);
  }

  /** Opens a stream with `voice`; `early` (with its arrival times) is its first audio. */
  private open(voice: VoiceName, early: CollectedAudio): void {
    this.voice = voice;
    const request: StreamRequest = {
      sourceLanguage: this.options.sourceLanguage, targetLanguage: this.options.targetLanguage,
      audio: { format: 'pcm_s16le', sampleRateHz: INPUT_SAMPLE_RATE_HZ, channels: 1 }, voice,
      vocabulary: [], glossary: [], transcript: { interim: true, final: true, translate: true },
      credential: { kind: 'grant', grant: this.options.grant },
      ...(this.options.simultaneous ? { features: { simultaneous: true } } : {}),
    };
    const session = (this.session = new StreamSession(this.deps.session, 'livekit', request, this.transport(), this.log, { replaceLostWorker: true }));
    // Present in its session from its first stream on (a speaker who never streamed completes nothing).
    void session.start().then((streaming) => {
      if (!streaming || this.ended || this.held) return;
      this.held = this.deps.hold({ disconnect: () => void this.close() }).catch((err: unknown) => {
        this.log.error({ err }, 'speaker could not be registered in its session');
        return async () => {};
      });
    });
    for (const chunk of early) session.pushAudio(chunk.pcm, { arrivedAtMs: chunk.arrivedAtMs });
  }

  /** The room as the session's surface. */
  private transport(): StreamTransport {
    return {
      event: (event) => (this.ended ? false : this.renderer.render(event)),
      audio: (pcm) => this.publisher.play(pcm),
      end: (end) => this.onEnd(end),
    };
  }

  /** The session ended: idle gives the stream back (the next voiced frame opens another); anything else ends the speaker. */
  private onEnd(end: StreamEnd): void {
    if ('status' in end && end.status === 408) return this.log.info('interpreter stream idle: its stream was given back');
    if ('status' in end) this.log.warn({ status: end.status, description: end.description }, 'interpreter stream ended');
    else if (end.code !== 1000) this.log.warn({ code: end.code, reason: end.reason }, 'interpreter leg 2 ended');
    void this.close();
  }

  /** Ends the speaker's stream (idempotent): the worker finishes the utterance in flight, then the session closes. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.collector.clear();
    this.reader.cancel().catch(() => {});
    try {
      await this.session?.shutdown();
      if (this.held) await (await this.held)();
    } finally {
      this.onEnded();
    }
  }
}
