import { AudioStream, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import type { FastifyBaseLogger } from 'fastify';
import type { VoiceName } from '../../common/voices.js';
import { bargeIn } from '../../core/audio-output.js';
import type { StreamRequest } from '../../core/stream-request.js';
import { StreamSession, type StreamEnd, type StreamSessionDeps, type StreamTransport } from '../../core/stream-session.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { LiveConnection } from '../../realtime/live-connection.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import { OUTPUT_SAMPLE_RATE_HZ, type RoomPublisher } from './room-publisher.js';
import { transcriptionAttributes, transcriptMessage, type SpeakerLabel } from './room-messages.js';
import { chooseVoice, estimatePitchHz, type VoiceType } from './voice-choice.js';

/** Rate the speaker's microphone is read at, in Hz: the track's own (Opus) rate, also the request's. */
const INPUT_SAMPLE_RATE_HZ = OUTPUT_SAMPLE_RATE_HZ;
/** For `clone`: voiced audio collected before the voice is chosen, in ms. */
const CLONE_VOICED_MS = 1000;
/** For `clone`: audio after which the voice is chosen whatever was voiced, in ms. */
const CLONE_MAX_WAIT_MS = 3000;
/** RMS (s16) over which a 10 ms frame counts as voiced (towards {@link CLONE_VOICED_MS}, and to open a stream). */
const VOICED_FRAME_RMS = 300;
/** RMS (s16) under which a frame is silence: it does not count against the idle timeout. */
const SILENT_FRAME_RMS = 100;
/** Worker backlog over which microphone audio is dropped rather than queued without bound, in ms. */
const MAX_BACKLOG_MS = 5000;

/** What one speaker's stream translates, and for whom. */
export interface SpeakerStreamOptions {
  /** The session's grant, bound to this speaker (`binding.participantId` = the speaker's identity). */
  grant: SessionKeyGrant;
  sourceLanguage: string;
  targetLanguage: string;
  voiceType: VoiceType;
  /** Spec-000 rooms: added to the data messages; undefined keeps spec 001's exact shape. */
  label: SpeakerLabel | undefined;
  /** The sid of the speaker's microphone track (`lk.transcribed_track_id` of its transcripts). */
  trackSid: string | undefined;
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
  /** Audio before the first stream, kept to choose a `clone` voice; it then opens the stream. */
  private readonly collected: Array<{ pcm: Buffer; arrivedAtMs: number }> = [];
  private collectedMs = 0;
  private voicedMs = 0;
  /** The voice chosen when the first stream opened. */
  private voice: VoiceName | undefined;
  /** The utterance the speaker is in (its transcripts' id); a new one clears speech still playing. */
  private speakingUtterance: string | undefined;
  /** Releases the speaker's presence in its session. */
  private readonly held: Promise<() => Promise<void>>;

  constructor(
    private readonly deps: SpeakerStreamDeps,
    track: RemoteTrack,
    private readonly publisher: RoomPublisher,
    private readonly options: SpeakerStreamOptions,
    private readonly log: FastifyBaseLogger,
    private readonly onEnded: () => void,
  ) {
    this.reader = new AudioStream(track, { sampleRate: INPUT_SAMPLE_RATE_HZ, numChannels: 1 }).getReader();
    this.held = deps.hold({ disconnect: () => void this.close() }).catch((err: unknown) => {
      this.log.error({ err }, 'speaker could not be registered in its session');
      return async () => {};
    });
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
        this.onAudio(pcm, (value.samplesPerChannel * 1000) / value.sampleRate, rms(value.data));
      }
    } catch (err) {
      if (!this.ended) this.log.warn({ err }, 'speaker track read failed');
    } finally {
      void this.close();
    }
  }

  private onAudio(pcm: Buffer, durationMs: number, frameRms: number): void {
    const session = this.session;
    if (session && (session.state === 'opening' || session.state === 'streaming')) {
      if ((session.backlogMs ?? 0) > MAX_BACKLOG_MS) return;
      return session.pushAudio(pcm, { keepsAlive: frameRms >= SILENT_FRAME_RMS });
    }
    if (this.ended) return;
    if (this.voice) {
      // An idle stream was given back: the next voiced frame opens another.
      if (frameRms > VOICED_FRAME_RMS) this.open(this.voice, [{ pcm, arrivedAtMs: Date.now() }]);
      return;
    }
    this.collected.push({ pcm, arrivedAtMs: Date.now() });
    this.collectedMs += durationMs;
    if (frameRms > VOICED_FRAME_RMS) this.voicedMs += durationMs;
    const ready = this.options.voiceType !== 'clone' || this.voicedMs >= CLONE_VOICED_MS || this.collectedMs >= CLONE_MAX_WAIT_MS;
    if (!ready) return;
    const pitchHz = this.options.voiceType === 'clone' ? estimatePitchHz(concatSamples(this.collected.map((c) => c.pcm)), INPUT_SAMPLE_RATE_HZ) : undefined;
    this.log.info({ pitchHz: pitchHz === undefined ? null : Math.round(pitchHz) }, 'interpreter voice chosen');
    this.open(chooseVoice(this.options.voiceType, pitchHz), this.collected.splice(0));
  }

  /** Opens a stream with `voice`; `early` (with its arrival times) is its first audio. */
  private open(voice: VoiceName, early: Array<{ pcm: Buffer; arrivedAtMs: number }>): void {
    this.voice = voice;
    const request: StreamRequest = {
      sourceLanguage: this.options.sourceLanguage, targetLanguage: this.options.targetLanguage,
      audio: { format: 'pcm_s16le', sampleRateHz: INPUT_SAMPLE_RATE_HZ, channels: 1 }, voice,
      vocabulary: [], glossary: [], transcript: { interim: true, final: true, translate: true },
      credential: { kind: 'grant', grant: this.options.grant },
    };
    const session = (this.session = new StreamSession(this.deps.session, 'livekit', request, this.transport(), this.log, { replaceLostWorker: true }));
    void session.start();
    for (const chunk of early) session.pushAudio(chunk.pcm, { arrivedAtMs: chunk.arrivedAtMs });
  }

  /** The room as the session's surface. */
  private transport(): StreamTransport {
    return {
      event: (event) => this.publish(event),
      audio: (pcm) => this.publisher.play(pcm),
      end: (end) => this.onEnd(end),
    };
  }

  /** A worker's event published into the room; resolves true once the data message was sent. */
  private publish(event: WorkerEvent): boolean | Promise<boolean> {
    const o = this.options;
    if (this.ended) return false;
    switch (event.type) {
      case 'transcript': {
        if (event.utteranceId !== this.speakingUtterance && event.text.trim() !== '') {
          // A new utterance: what is still playing of the previous translation is taken back.
          this.speakingUtterance = event.utteranceId;
          bargeIn(this.publisher);
        }
        this.publisher.publishTranscription(event.text, transcriptionAttributes(event.utteranceId, event.final, o.sourceLanguage, o.trackSid));
        return this.publisher.publishMessage(transcriptMessage('original_transcript', event.text, event.final, o.sourceLanguage, Date.now(), o.label));
      }
      case 'translation':
        this.publisher.publishTranscription(event.text, transcriptionAttributes(`${event.utteranceId}:${o.targetLanguage}`, true, o.targetLanguage, this.publisher.trackSid));
        return this.publisher.publishMessage(transcriptMessage('translated_transcript', event.text, true, o.sourceLanguage, Date.now(), o.label));
      case 'error':
        this.log.warn({ status: event.status, description: event.description }, 'interpreter stream error');
        return false;
      default:
        return false;
    }
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
    this.collected.length = 0;
    this.reader.cancel().catch(() => {});
    try {
      await this.session?.shutdown();
      await (await this.held)();
    } finally {
      this.onEnded();
    }
  }
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

function concatSamples(chunks: readonly Buffer[]): Int16Array {
  const all = Buffer.concat(chunks);
  const samples = new Int16Array(Math.floor(all.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = all.readInt16LE(i * 2);
  return samples;
}
