import { AudioStream, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import type { FastifyBaseLogger } from 'fastify';
import type { VoiceName } from '../../common/voices.js';
import type { AppContext } from '../../context.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { StreamConfig } from '../../gateway/stream-config.js';
import { openGrantedStream, type GatewayStream } from '../../gateway/stream-service.js';
import type { LiveConnection } from '../../realtime/connection-registry.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import { OUTPUT_SAMPLE_RATE_HZ, type RoomPublisher } from './room-publisher.js';
import { transcriptionAttributes, transcriptMessage, type SpeakerLabel } from './room-messages.js';
import { chooseVoice, estimatePitchHz, type VoiceType } from './voice-choice.js';

/** Rate the speaker's microphone is read at, in Hz: the track's own (Opus) rate, also the config's. */
const INPUT_SAMPLE_RATE_HZ = OUTPUT_SAMPLE_RATE_HZ;
/** For `clone`: voiced audio collected before the voice is chosen, in ms. */
const CLONE_VOICED_MS = 1000;
/** For `clone`: audio after which the voice is chosen whatever was voiced, in ms. */
const CLONE_MAX_WAIT_MS = 3000;
/** RMS (s16) over which a 10 ms frame counts towards {@link CLONE_VOICED_MS}. */
const VOICED_FRAME_RMS = 300;
/** Worker backlog over which microphone audio is dropped rather than queued without bound, in ms. */
const MAX_BACKLOG_MS = 5000;
/** The close of a stream whose worker died (the stream service's 500): the stream is re-placed. */
const WORKER_DIED_CODE = 4500;
/** On the speaker's leaving, how long the worker may take to finish the utterance in flight, in ms. */
const FINISH_TIMEOUT_MS = 2000;

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
  /** Simultaneous mode (docs/rooms.md "Simultaneous mode"); default off. */
  simultaneous?: boolean;
}

/**
 * One remote speaker's microphone in a LiveKit room, translated (docs/rooms.md): reads the track at
 * 48 kHz, opens a stream through the stream service ({@link openGrantedStream}: admission, session,
 * glossary, usage, worker), forwards the audio, and maps the worker's events onto the room —
 * spec-001 data messages, `lk.transcription` text streams and the translated speech. A transport
 * adapter: it decides nothing the stream service decides. Ends when the track ends, on
 * {@link SpeakerStream.close}, or on {@link SpeakerStream.disconnect} (revocation).
 */
export class SpeakerStream implements LiveConnection {
  private state: 'collecting' | 'opening' | 'streaming' | 'closed' = 'collecting';
  private stream: GatewayStream | undefined;
  private readonly reader: ReadableStreamDefaultReader<AudioFrame>;
  private readonly early: Array<{ pcm: Buffer; arrivedAtMs: number }> = [];
  private earlyMs = 0;
  private voicedMs = 0;
  /** The voice chosen when the stream first opened. */
  private voice: VoiceName | undefined;
  /** The utterance the speaker is in (its transcripts' id); a new one clears speech still playing. */
  private speakingUtterance: string | undefined;

  constructor(
    private readonly ctx: AppContext,
    track: RemoteTrack,
    private readonly publisher: RoomPublisher,
    private readonly options: SpeakerStreamOptions,
    private readonly log: FastifyBaseLogger,
    private readonly onEnded: () => void,
  ) {
    this.reader = new AudioStream(track, { sampleRate: INPUT_SAMPLE_RATE_HZ, numChannels: 1 }).getReader();
    void this.read();
  }

  /** Reads the microphone until the track or the stream ends. */
  private async read(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done || this.state === 'closed') break;
        // A copy: the frame's memory belongs to the FFI layer.
        const pcm = Buffer.from(new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength));
        this.onAudio(pcm, (value.samplesPerChannel * 1000) / value.sampleRate, value.data);
      }
    } catch (err) {
      if (this.state !== 'closed') this.log.warn({ err }, 'speaker track read failed');
    } finally {
      void this.close();
    }
  }

  private onAudio(pcm: Buffer, durationMs: number, samples: Int16Array): void {
    if (this.state === 'streaming' && this.stream) {
      if (this.stream.link.backlogMs > MAX_BACKLOG_MS) return;
      this.stream.link.sendAudio(pcm);
      this.stream.audioReceived(durationMs);
      return;
    }
    if (this.state === 'closed') return;
    this.early.push({ pcm, arrivedAtMs: Date.now() });
    this.earlyMs += durationMs;
    if (rms(samples) > VOICED_FRAME_RMS) this.voicedMs += durationMs;
    if (this.state === 'opening') {
      // The stream is being opened: keep at most CLONE_MAX_WAIT_MS, dropping the oldest.
      while (this.earlyMs > CLONE_MAX_WAIT_MS && this.early.length > 1) this.earlyMs -= durationOf(this.early.shift()?.pcm);
      return;
    }
    const ready = this.options.voiceType !== 'clone' || this.voicedMs >= CLONE_VOICED_MS || this.earlyMs >= CLONE_MAX_WAIT_MS;
    if (ready) void this.open();
  }

  /**
   * Chooses the voice (once: a re-placed stream keeps it) and opens the stream; audio collected
   * meanwhile follows it.
   */
  private async open(): Promise<void> {
    this.state = 'opening';
    const pitchHz = this.options.voiceType === 'clone' && !this.voice ? estimatePitchHz(concatSamples(this.early.map((c) => c.pcm)), INPUT_SAMPLE_RATE_HZ) : undefined;
    const voice = (this.voice ??= chooseVoice(this.options.voiceType, pitchHz));
    const config: StreamConfig = {
      audio: { format: 'pcm_s16le', sample_rate: INPUT_SAMPLE_RATE_HZ, channels: 1 },
      source_language: this.options.sourceLanguage, target_language: this.options.targetLanguage, voice,
      vocabulary: [], translation_dictionary: [], transcript: { interim: true, final: true, translate: true },
      ...(this.options.simultaneous ? { features: { simultaneous: true } } : {}),
    };
    try {
      const result = await openGrantedStream(this.ctx, this.options.grant, {
        config, connection: this, log: this.log, isOpen: () => this.state === 'opening',
        handlers: { onEvent: (e) => this.onWorkerEvent(e), onAudio: (pcm) => this.publisher.play(pcm), onClose: (code, reason) => this.onWorkerClose(code, reason) },
      });
      if (!result.ok) {
        if ('status' in result) this.log.warn({ status: result.status, description: result.description }, 'interpreter stream refused');
        return void this.close();
      }
      this.stream = result.stream;
      this.state = 'streaming';
      this.log.info({ voice, pitchHz: pitchHz === undefined ? null : Math.round(pitchHz) }, 'interpreter stream started');
      this.ctx.metrics.streamStarted('livekit');
      this.flushEarly(this.stream);
    } catch (err) {
      this.log.error({ err }, 'interpreter stream could not open');
      void this.close();
    }
  }

  /** Sends the audio kept while the stream was opening, with its arrival times. */
  private flushEarly(stream: GatewayStream): void {
    for (const chunk of this.early.splice(0)) {
      stream.link.sendAudio(chunk.pcm, chunk.arrivedAtMs);
      stream.audioReceived(durationOf(chunk.pcm));
    }
    this.earlyMs = 0;
  }

  /** A worker's event, published into the room; the stream service records what was published. */
  private onWorkerEvent(event: WorkerEvent): void {
    const o = this.options;
    const stream = this.stream;
    switch (event.type) {
      case 'transcript': {
        if (this.state === 'closed') return;
        if (event.utteranceId !== this.speakingUtterance && event.text.trim() !== '') {
          // A new utterance: what is still playing of the previous translation is taken back
          // (simultaneous mode never takes back speech: the next utterance's segments queue after it).
          this.speakingUtterance = event.utteranceId;
          if (this.publisher.playing && !o.simultaneous) this.publisher.clear();
        }
        const message = transcriptMessage('original_transcript', event.text, event.final, o.sourceLanguage, Date.now(), o.label);
        this.publisher.publishTranscription(event.text, transcriptionAttributes(event.utteranceId, event.final, o.sourceLanguage, o.trackSid));
        void this.publisher.publishMessage(message).then((sent) => sent && stream?.delivered(event));
        return;
      }
      case 'translation': {
        if (this.state === 'closed') return;
        if (!event.final) {
          // Simultaneous mode: the spoken part so far, on LiveKit's transcription stream only (spec 001's
          // `translated_transcript` is always final); the final translation replaces it (same segment id).
          this.publisher.publishTranscription(event.text, transcriptionAttributes(`${event.utteranceId}:${o.targetLanguage}`, false, o.targetLanguage, this.publisher.trackSid));
          return;
        }
        const message = transcriptMessage('translated_transcript', event.text, true, o.sourceLanguage, Date.now(), o.label);
        this.publisher.publishTranscription(event.text, transcriptionAttributes(`${event.utteranceId}:${o.targetLanguage}`, true, o.targetLanguage, this.publisher.trackSid));
        void this.publisher.publishMessage(message).then((sent) => sent && stream?.delivered(event));
        return;
      }
      case 'error':
        this.log.warn({ status: event.status, description: event.description }, 'interpreter stream error');
        return;
    }
  }

  /** Leg 2 ended without the interpreter asking: the speaker's translation ends (a new track starts a new stream). */
  private onWorkerClose(code: number, reason: string): void {
    if (this.state === 'closed') return;
    if (code === WORKER_DIED_CODE || code === 1001) return void this.replace(code, reason);
    if (code !== 1000) this.log.warn({ code, reason }, 'interpreter leg 2 ended');
    void this.close();
  }

  /**
   * The worker died or shuts down, not the speaker (docs/architecture.md "Processes"): the stream service places the
   * stream on another worker (same session, slot and voice); the speaker's audio meanwhile is kept
   * (the last few seconds). Ends the speaker's stream when no worker has room.
   */
  private async replace(code: number, reason: string): Promise<void> {
    const stream = this.stream;
    if (!stream || this.state !== 'streaming') return void this.close();
    this.log.warn({ code, reason }, 'interpreter stream lost its worker; placing it on another');
    this.state = 'opening';
    try {
      await stream.replaceWorker();
    } catch (err) {
      this.log.error({ err }, 'interpreter stream could not be placed on another worker');
      return void this.close();
    }
    if (this.state !== 'opening') return;
    this.state = 'streaming';
    this.flushEarly(stream);
  }

  /** Ends this speaker's stream at once (revocation: the participant or the key behind the session). */
  disconnect(status: number, description: string): void {
    if (this.state === 'closed') return;
    this.log.info({ status, description }, 'interpreter stream disconnected');
    void this.close();
  }

  /** Ends the stream (idempotent): the worker finishes the utterance in flight, then the session stream closes. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.early.length = 0;
    this.reader.cancel().catch(() => {});
    try {
      await this.stream?.close(FINISH_TIMEOUT_MS);
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

/** Duration of s16le mono at the input rate, in ms. */
function durationOf(pcm: Buffer | undefined): number {
  return pcm ? (Math.floor(pcm.length / 2) * 1000) / INPUT_SAMPLE_RATE_HZ : 0;
}

function concatSamples(chunks: readonly Buffer[]): Int16Array {
  const all = Buffer.concat(chunks);
  const samples = new Int16Array(Math.floor(all.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = all.readInt16LE(i * 2);
  return samples;
}
