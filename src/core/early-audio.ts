/**
 * Audio a client sends between its config and the start of its stream (a worker's acknowledgement
 * takes a round trip), kept with its arrival time so latency is measured from when it arrived, and
 * bounded by duration so a client cannot make the server buffer without limit (spec 002 Part 1:
 * audio may follow the config at once).
 */
export class EarlyAudio {
  private readonly frames: Array<{ pcm: Buffer; arrivedAtMs: number }> = [];
  private durationMs = 0;

  /** @param maxDurationMs - the most audio it keeps, in ms at the stream's declared rate. */
  constructor(readonly maxDurationMs: number) {}

  /**
   * Keeps a copy of `pcm`, `durationMs` long, that arrived at `arrivedAtMs` (epoch ms; now by default).
   * @returns false, keeping nothing, once the total would pass `maxDurationMs` (the caller refuses the stream).
   */
  push(pcm: Buffer, durationMs: number, arrivedAtMs = Date.now()): boolean {
    if (this.durationMs + durationMs > this.maxDurationMs) return false;
    this.durationMs += durationMs;
    this.frames.push({ pcm: Buffer.from(pcm), arrivedAtMs });
    return true;
  }

  /** Hands out what was kept, oldest first, and empties the buffer. */
  take(): Array<{ pcm: Buffer; arrivedAtMs: number }> {
    this.durationMs = 0;
    return this.frames.splice(0);
  }
}
