import {
  AudioFrame, AudioSource, LocalAudioTrack, TrackPublishOptions, TrackSource, type LocalParticipant,
} from '@livekit/rtc-node';
import type { FastifyBaseLogger } from 'fastify';
import { PlaybackFinishedListeners, type AudioOutput } from '../../core/audio-output.js';
import { encodeMessage, TRANSCRIPT_DATA_TOPIC, TRANSCRIPTION_TOPIC, type TranscriptMessage } from './room-messages.js';

/** Rate of the interpreter's translated-speech track, in Hz (the engine's speech is resampled to it). */
export const OUTPUT_SAMPLE_RATE_HZ = 48_000;
/** Samples of one 10 ms frame at {@link OUTPUT_SAMPLE_RATE_HZ}. */
const FRAME_SAMPLES = OUTPUT_SAMPLE_RATE_HZ / 100;
/** Audio the source buffers ahead of real time, in ms (what a clear can still take back). */
const SOURCE_QUEUE_MS = 200;
/** Synthesized speech waiting to be played at most, in ms; beyond it the oldest is dropped. */
const MAX_PENDING_MS = 60_000;

/**
 * The interpreter's outputs in one room (docs/rooms.md "Room protocol"): spec-001 data messages on
 * reliable data packets, `lk.transcription` text streams, and one translated-speech audio track
 * (`translation`, 48 kHz mono) played in real time. Publications are serialized so clients receive
 * them in the order the pipeline produced them; a failed publication is logged and never thrown.
 */
export class RoomPublisher implements AudioOutput {
  private readonly source = new AudioSource(OUTPUT_SAMPLE_RATE_HZ, 1, SOURCE_QUEUE_MS);
  private readonly track = LocalAudioTrack.createAudioTrack('translation', this.source);
  /** The sid of the translated-speech track once published. */
  trackSid: string | undefined;
  private dataChain: Promise<unknown> = Promise.resolve();
  private textChain: Promise<unknown> = Promise.resolve();
  /** Samples waiting to be played, in order. */
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private pumping = false;
  private closed = false;
  private readonly finished = new PlaybackFinishedListeners();
  /** Counts plays and clears: a playout reported finished must be the latest. */
  private generation = 0;

  constructor(
    private readonly participant: LocalParticipant,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Publishes the translated-speech track (as a microphone-source track, so clients play it as speech). */
  async start(): Promise<void> {
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    const publication = await this.participant.publishTrack(this.track, options);
    this.trackSid = publication.sid;
  }

  /** Publishes a spec-001 data message on a reliable data packet; resolves once LiveKit took it (false on failure). */
  publishMessage(message: TranscriptMessage): Promise<boolean> {
    const sent = this.dataChain.then(() => this.participant.publishData(encodeMessage(message), { reliable: true, topic: TRANSCRIPT_DATA_TOPIC }))
      .then(() => true, (err: unknown) => {
        if (!this.closed) this.log.warn({ err }, 'interpreter could not publish a data message');
        return false;
      });
    this.dataChain = sent;
    return sent;
  }

  /** Sends `text` as one `lk.transcription` text stream with `attributes` (LiveKit's transcription convention). */
  publishTranscription(text: string, attributes: Record<string, string>): void {
    this.textChain = this.textChain.then(() => this.participant.sendText(text, { topic: TRANSCRIPTION_TOPIC, attributes }))
      .catch((err: unknown) => {
        if (!this.closed) this.log.warn({ err }, 'interpreter could not publish a transcription text stream');
      });
  }

  /**
   * Queues synthesized speech for the track.
   * @param pcm - s16le mono at {@link OUTPUT_SAMPLE_RATE_HZ} (the stream config declares that rate).
   */
  play(pcm: Buffer): void {
    if (this.closed || pcm.length < 2) return;
    this.generation++;
    const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1)));
    this.pending.push(samples);
    this.pendingSamples += samples.length;
    while (this.pendingSamples > (MAX_PENDING_MS * OUTPUT_SAMPLE_RATE_HZ) / 1000 && this.pending.length > 1) {
      this.pendingSamples -= this.pending.shift()?.length ?? 0;
    }
    if (!this.pumping) void this.pump();
  }

  /** Whether speech is queued or playing. */
  get playing(): boolean {
    return this.pendingSamples > 0 || this.source.queuedDuration > 0;
  }

  /** Drops the speech not played yet (the speaker started a new utterance: barge-in). */
  clear(): void {
    const wasPlaying = this.playing;
    this.generation++;
    this.pending = [];
    this.pendingSamples = 0;
    this.source.clearQueue();
    if (wasPlaying) this.finished.emit();
  }

  /** {@inheritDoc AudioOutput.onPlaybackFinished} Emitted once the source played out what was queued. */
  onPlaybackFinished(listener: () => void): () => void {
    return this.finished.add(listener);
  }

  /** Feeds queued speech to the source in 10 ms frames; `captureFrame` paces it at real time. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      let frame = this.nextFrame();
      while (frame && !this.closed) {
        await this.source.captureFrame(new AudioFrame(frame, OUTPUT_SAMPLE_RATE_HZ, 1, FRAME_SAMPLES));
        frame = this.nextFrame();
      }
    } catch (err) {
      if (!this.closed) this.log.warn({ err }, 'interpreter audio playout failed');
    } finally {
      this.pumping = false;
    }
    if (!this.closed) void this.reportPlayedOut(this.generation);
  }

  /** Emits playback-finished once the source played out, unless speech was played or cleared since `generation`. */
  private async reportPlayedOut(generation: number): Promise<void> {
    await this.source.waitForPlayout().catch(() => {});
    if (!this.closed && generation === this.generation) this.finished.emit();
  }

  /** The next 10 ms of queued speech (the last one padded with silence), or undefined when none is left. */
  private nextFrame(): Int16Array | undefined {
    if (this.pendingSamples === 0) return undefined;
    const frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    while (filled < FRAME_SAMPLES && this.pending.length > 0) {
      const head = this.pending[0] as Int16Array;
      const take = Math.min(FRAME_SAMPLES - filled, head.length);
      frame.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.pendingSamples = Math.max(0, this.pendingSamples - filled);
    return frame;
  }

  /** Stops playout and waits for the publications in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clear();
    await Promise.allSettled([this.dataChain, this.textChain]);
    await this.source.close().catch(() => {});
  }
}
