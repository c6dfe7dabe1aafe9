/** A speech stream waiting for the one being played. */
interface WaitingStream {
  id: string;
  speakerId: string;
  blocks: Buffer[];
  ended: boolean;
}

/** How many finished stream ids are remembered, to ignore their late blocks. */
const FINISHED_MEMORY = 256;

/**
 * Plays one language's translated speech to a process's listeners one utterance at a time
 * (docs/conversations.md: "Speech of consecutive finals is never interleaved"), whichever process
 * synthesized it. Blocks of the stream being played go out at once; blocks of a stream that starts
 * meanwhile (another speaker, possibly on another process) wait until it ends, then follow in the
 * order the streams began. A stream that stays silent for `stallMs` without ending (its process
 * died) is given up, so one lost end never silences the room.
 */
export class SpeechSequencer {
  private active: { id: string; speakerId: string } | undefined;
  private readonly waiting: WaitingStream[] = [];
  private readonly finished = new Set<string>();
  private stall: NodeJS.Timeout | undefined;

  /**
   * @param play - sends a block to this process's listeners of the language, except `speakerId`.
   * @param stallMs - how long a stream may stay silent before it is given up.
   */
  constructor(
    private readonly play: (speakerId: string, pcm: Buffer) => void,
    private readonly stallMs = 10_000,
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
    if (!w) this.waiting.push((w = { id: streamId, speakerId, blocks: [], ended: false }));
    w.blocks.push(pcm);
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
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
    this.active = undefined;
    this.waiting.length = 0;
  }

  private next(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
    if (this.active) this.remember(this.active.id);
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
    this.stall = setTimeout(() => this.next(), this.stallMs);
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
