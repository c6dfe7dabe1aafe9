/** Audio of one speaker waiting for the speaker being passed on. */
interface WaitingSpeaker {
  speakerId: string;
  blocks: Buffer[];
  bytes: number;
}

/**
 * Passes several speakers' synthesized speech on to one listener a turn at a time, so two streams
 * speaking at once are never interleaved block by block (docs/phone.md "What the callee hears").
 * Blocks of the speaker whose turn it is go out at once; another speaker's blocks wait until the
 * current one has sent nothing for `turnGapMs` (speech is synthesized faster than it plays, so a gap
 * that long means its utterance was all handed over), then follow in the order the speakers began.
 * The listener (a Twilio Media Stream) plays what it receives in order. A waiting speaker holds at
 * most `maxWaitingBytes`; beyond that its blocks are dropped (a listener cannot catch up anyway).
 */
export class SpeakerTurns {
  private current: string | undefined;
  private readonly waiting: WaitingSpeaker[] = [];
  private gap: NodeJS.Timeout | undefined;

  /**
   * @param send - hands a block on to the listener.
   * @param turnGapMs - silence of the current speaker that ends its turn, in ms.
   * @param maxWaitingBytes - bytes one waiting speaker may hold (default: 30 s of 16 kHz s16le).
   */
  constructor(
    private readonly send: (speakerId: string, block: Buffer) => void,
    private readonly turnGapMs = 400,
    private readonly maxWaitingBytes = 30 * 32_000,
  ) {}

  /** A block of `speakerId`'s speech. */
  push(speakerId: string, block: Buffer): void {
    this.current ??= speakerId;
    if (this.current === speakerId) {
      this.send(speakerId, block);
      this.armGap();
      return;
    }
    let w = this.waiting.find((s) => s.speakerId === speakerId);
    if (!w) this.waiting.push((w = { speakerId, blocks: [], bytes: 0 }));
    if (w.bytes + block.length > this.maxWaitingBytes) return;
    w.blocks.push(block);
    w.bytes += block.length;
  }

  /** Drops what waits and ends the current turn (the listener left, or talked over the speech: barge-in). */
  clear(): void {
    if (this.gap) clearTimeout(this.gap);
    this.gap = undefined;
    this.current = undefined;
    this.waiting.length = 0;
  }

  private armGap(): void {
    if (this.gap) clearTimeout(this.gap);
    this.gap = setTimeout(() => this.nextTurn(), this.turnGapMs);
    this.gap.unref();
  }

  /** The current speaker's turn is over: the first waiting speaker's blocks go out, and it holds the turn. */
  private nextTurn(): void {
    this.gap = undefined;
    this.current = undefined;
    const next = this.waiting.shift();
    if (!next) return;
    this.current = next.speakerId;
    for (const block of next.blocks) this.send(next.speakerId, block);
    this.armGap();
  }
}
