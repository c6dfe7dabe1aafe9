import { encodeFromLinear } from '../audio/g711.js';
import { S16leDecoder } from '../audio/pcm.js';
import { PlaybackFinishedListeners, type AudioOutput } from '../core/audio-output.js';
import { MULAW_FRAME_BYTES, renderClear, renderMark, renderMedia } from './twilio-media-messages.js';

/** µ-law of digital silence: pads the last frame of a burst to 20 ms. */
const MULAW_SILENCE = 0xff;
/** Audio that ends a burst when nothing follows it for this long is sent padded, in ms. */
const TAIL_FLUSH_MS = 60;

/**
 * The call's outbound audio on a Twilio Media Stream: s16le at 8000 Hz in, chunks of any size; out
 * go `media` messages of exactly 20 ms of µ-law (160 bytes, base64), a `mark` after each burst so
 * Twilio reports when it has played, and `clear` to drop what Twilio has buffered (barge-in). A
 * burst's last partial frame is padded with silence once no audio follows for {@link TAIL_FLUSH_MS}.
 */
export class TwilioPlayback implements AudioOutput {
  private readonly decoder = new S16leDecoder();
  /** µ-law bytes not yet sent: less than one frame. */
  private pending: Buffer = Buffer.alloc(0);
  private tailTimer: NodeJS.Timeout | undefined;
  private markSeq = 0;
  /** Marks sent that Twilio has not echoed yet: audio is queued or playing on the call. */
  private readonly unplayedMarks = new Set<string>();
  /** 20 ms frames sent, for the metrics and the tests. */
  framesSent = 0;
  private stopped = false;
  private readonly finished = new PlaybackFinishedListeners();

  /**
   * @param streamSid - the stream's id (`start.streamSid`), sent in every message.
   * @param send - sends one text frame to Twilio; false when the socket is gone.
   */
  constructor(private readonly streamSid: string, private readonly send: (text: string) => boolean) {}

  /** True while audio sent to Twilio has not been reported played. */
  get playing(): boolean {
    return this.unplayedMarks.size > 0;
  }

  /** {@inheritDoc AudioOutput.onPlaybackFinished} Emitted when Twilio echoed the last mark sent. */
  onPlaybackFinished(listener: () => void): () => void {
    return this.finished.add(listener);
  }

  /** Queues s16le audio at 8000 Hz for the caller: whole frames go now, then a mark. */
  play(pcm16le: Buffer): void {
    if (this.stopped) return;
    const mulaw = encodeFromLinear(this.decoder.decode(pcm16le), 'mulaw');
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, mulaw]) : mulaw;
    const whole = this.pending.length - (this.pending.length % MULAW_FRAME_BYTES);
    for (let offset = 0; offset < whole; offset += MULAW_FRAME_BYTES) this.sendFrame(this.pending.subarray(offset, offset + MULAW_FRAME_BYTES));
    this.pending = this.pending.subarray(whole);
    if (whole > 0) this.sendMark();
    clearTimeout(this.tailTimer);
    if (this.pending.length > 0) this.tailTimer = setTimeout(() => this.flushTail(), TAIL_FLUSH_MS);
  }

  /** Twilio echoed a mark: the audio before it has played, or was cleared. */
  markPlayed(name: string): void {
    if (this.unplayedMarks.delete(name) && !this.playing && this.pending.length === 0) this.finished.emit();
  }

  /**
   * Barge-in: drops the audio not yet sent and asks Twilio to drop what it buffered (`clear`; Twilio
   * then echoes the marks it dropped, which reports the playback finished).
   */
  clear(): void {
    clearTimeout(this.tailTimer);
    this.pending = Buffer.alloc(0);
    if (!this.stopped) this.send(renderClear(this.streamSid));
  }

  /** Stops the tail timer (the stream ended); nothing more is sent. Idempotent. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.tailTimer);
    this.pending = Buffer.alloc(0);
  }

  private flushTail(): void {
    if (this.pending.length === 0) return;
    const frame = Buffer.alloc(MULAW_FRAME_BYTES, MULAW_SILENCE);
    this.pending.copy(frame);
    this.pending = Buffer.alloc(0);
    this.sendFrame(frame);
    this.sendMark();
  }

  private sendFrame(frame: Buffer): void {
    if (this.send(renderMedia(this.streamSid, frame))) this.framesSent++;
  }

  private sendMark(): void {
    const name = `tolk-${++this.markSeq}`;
    if (this.send(renderMark(this.streamSid, name))) this.unplayedMarks.add(name);
  }
}
