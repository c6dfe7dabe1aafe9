/** A speech stream waiting for the one being played. */
interface WaitingStream {
  id: string;
  speakerId: string;
  blocks: Buffer[];
  /** Bytes held in `blocks`. */
  bytes: number;
  ended: boolean;
}

/** How a {@link SpeechSequencer} treats what its user cannot signal. */
export interface SpeechSequencerOptions {
  /**
   * Bytes one waiting stream may hold; beyond that its blocks are dropped (a listener cannot catch
   * up anyway). Unbounded by default.
   */
  maxWaitingBytes?: number;
  /**
   * True when streams never `end` (a phone callee hears each speaker as one stream, keyed by the
   * speaker): a stream silent for `stallMs` only ends its turn and may speak again later, rather
   * than being given up.
   */
  turnsByGap?: boolean;
}

/** How many finished stream ids are remembered, to ignore their late blocks. */
const FINISHED_MEMORY = 256;

/**
 * Plays one language's translated speech to a process's listeners one utterance at a time
 * (docs/conversations.md: "Speech of consecutive finals is never interleaved"), whichever process
 * synthesized it. Blocks of the stream being played go out at once; blocks of a stream that starts
 * meanwhile (another speaker, possibly on another process) wait until it ends, then follow in the
 * order the streams began. A stream that stays silent for `stallMs` without ending (its process
 * died) is given up, so one lost end never silences the room. The one speaker-turn sequencer of
 * Tolk: a phone callee's speech (docs/phone.md "What the callee hears") runs on it too, with turns
 * that end after a gap ({@link SpeechSequencerOptions.turnsByGap}).
 */
export class SpeechSequencer {
  private active: { id: string; speakerId: string } | undefined;
  private readonly waiting: WaitingStream[] = [];
  private readonly finished = new Set<string>();
  private stall: NodeJS.Timeout | undefined;

  /**
   * @param play - sends a block to this process's listeners of the language, except `speakerId`.
   * @param stallMs - how long a stream may stay silent before it is given up (or, with
   *   `turnsByGap`, before its turn ends), in ms.
   */
  constructor(
    private readonly play: (speakerId: string, pcm: Buffer) => void,
    private readonly stallMs = 10_000,
    private readonly options: SpeechSequencerOptions = {},
  ) {}

  /** A block of stream `streamId` (s16le mono 16 kHz). */
  push(streamId: string, speakerId: string, pcm: Buffer): void {
    if (this.finished.has(streamId)) return;
    if (!this.active) this.active = { id: streamId, speakerId };
    if (this.active.id === streamId) {
      this.play(speakerId, pcm);
      this.arm();
      return;
    }
    let w = this.waiting.find((s) => s.id === streamId);
    if (!w) this.waiting.push((w = { id: streamId, speakerId, blocks: [], bytes: 0, ended: false }));
    if (w.bytes + pcm.length > (this.options.maxWaitingBytes ?? Infinity)) return;
    w.blocks.push(pcm);
    w.bytes += pcm.length;
  }

  /** The end of stream `streamId`: the next waiting stream, if any, plays. */
  end(streamId: string): void {
    if (this.active?.id === streamId) return this.next();
    const w = this.waiting.find((s) => s.id === streamId);
    if (w) w.ended = true;
    else this.remember(streamId); // it never produced a block
  }

  /** Drops everything (the room is closing). */
  close(): void {
    this.clear();
  }

  /**
   * Drops what waits and ends the current turn; it stays usable (barge-in: the listener talked over
   * the speech, or it left).
   */
  clear(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
    this.active = undefined;
    this.waiting.length = 0;
  }

  /** The active stream ended (or, unless turns end by gap, stalled): the next waiting one plays. */
  private next(finished = true): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
    if (this.active && finished) this.remember(this.active.id);
    this.active = undefined;
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) {
      for (const block of w.blocks) this.play(w.speakerId, block);
      if (w.ended) {
        this.remember(w.id);
        continue;
      }
      this.active = { id: w.id, speakerId: w.speakerId };
      this.arm();
      return;
    }
  }

  private arm(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = setTimeout(() => this.next(!this.options.turnsByGap), this.stallMs);
    this.stall.unref();
  }

  private remember(streamId: string): void {
    this.finished.add(streamId);
    if (this.finished.size > FINISHED_MEMORY) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}
