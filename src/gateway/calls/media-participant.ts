import type { CallLeg } from '../../domain/calls/model.js';
import type { MediaFormat, MediaLeg, MediaLegSink } from '../../domain/calls/telephony.js';
import { CallAudioCodec, type CallAudioFormat } from './call-audio.js';
import type { CallParticipant, CallRoom, CallRoomEvent } from './call-room.js';

/** The calls codec's format for a media leg's (`pcm16` is `pcm_16`). */
export function callFormatOf(format: MediaFormat): CallAudioFormat {
  return { encoding: format.encoding === 'pcm16' ? 'pcm_16' : format.encoding, sampleRateHz: format.sampleRateHz, channels: 1 };
}

/**
 * A provider's media stream (Twilio Media Streams) as a participant of a call (the telephony seam,
 * `CallControl.attachMediaLeg`): the caller's audio goes into the room as `leg`; what the leg should
 * hear is encoded in the provider's format and handed to its sink. It reads no transcripts.
 */
export class MediaParticipant implements CallParticipant {
  private readonly codec = new CallAudioCodec();
  private readonly format: CallAudioFormat;
  private done = false;
  /** The {@link MediaLeg} the provider holds. */
  readonly mediaLeg: MediaLeg;

  private room: CallRoom | undefined;
  private onLeave: ((p: MediaParticipant) => Promise<void>) | undefined;

  constructor(readonly leg: CallLeg, format: MediaFormat, private readonly sink: MediaLegSink) {
    this.format = callFormatOf(format);
    this.mediaLeg = {
      pushAudio: (chunk) => {
        if (!this.done) this.room?.pushAudio(this.leg, this.codec.decode(chunk, this.format));
      },
      end: async () => {
        if (this.done) return;
        this.done = true;
        await this.onLeave?.(this);
      },
    };
  }

  /** The room it joined, and how it leaves it when the provider's stream stops. */
  attached(room: CallRoom, onLeave: (p: MediaParticipant) => Promise<void>): void {
    this.room = room;
    this.onLeave = onLeave;
  }

  /**
   * A phone leg reads no transcripts, but one of its own leg means the caller is speaking: audio
   * still playing to them is dropped (barge-in; Twilio `clear`), so they do not talk over the
   * translation of what came before.
   */
  send(event: CallRoomEvent): void {
    if (!this.done && event.type === 'transcript' && event.speaker === this.leg) this.sink.clearAudio?.();
  }

  play(pcm: Buffer): void {
    if (this.done) return;
    const bytes = this.codec.encode(pcm, this.format);
    if (bytes.length > 0) this.sink.sendAudio(bytes);
  }

  /** The provider's media stream closes (it has no error message of its own). */
  fail(_status: number, description: string): void {
    this.end(description);
  }

  end(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.sink.close(reason);
  }
}
