/**
 * Plays translated speech: PCM s16le mono chunks as they arrive from the server, scheduled back to
 * back on the shared AudioContext so utterances never overlap and chunks of one utterance join
 * without gaps.
 */
import { audioContext } from './context';
import { int16BytesToFloat } from './resampler';

/** Delay before the first chunk after silence, in seconds: absorbs scheduling jitter. */
const START_DELAY_S = 0.05;
/** How long after the last chunk ends the room still counts as loud (speaker decay, echo), in ms. */
const ECHO_TAIL_MS = 300;

/** A queue of PCM speech played in arrival order. */
export class PcmPlayer {
  private nextStartS = 0;
  private readonly playing = new Set<AudioBufferSourceNode>();
  private carry: Uint8Array | undefined;
  /** Serializes scheduling so chunks play in arrival order even while the context resumes. */
  private chain: Promise<void> = Promise.resolve();
  /** Bumped by `stop()`: chunks queued before it are dropped. */
  private generation = 0;
  private quietAfterMs = 0;

  /**
   * @param sampleRateHz - rate of the PCM the server sends (the config's `sample_rate`).
   * @param onActivity - called with `true` when playback starts and `false` when the queue drains.
   */
  constructor(
    private readonly sampleRateHz: number,
    private readonly onActivity: (playing: boolean) => void = () => {},
  ) {}

  /** Queues one binary message of PCM s16le; an odd trailing byte is kept for the next chunk. */
  enqueue(chunk: ArrayBuffer): void {
    const bytes = this.joinCarry(new Uint8Array(chunk));
    if (bytes.byteLength < 2) return;
    const samples = int16BytesToFloat(bytes.slice().buffer);
    const generation = this.generation;
    this.chain = this.chain
      .then(() => (generation === this.generation ? this.schedule(samples) : undefined))
      .catch(() => {});
  }

  private async schedule(samples: Float32Array<ArrayBuffer>): Promise<void> {
    const context = await audioContext();
    const buffer = context.createBuffer(1, samples.length, this.sampleRateHz);
    buffer.copyToChannel(samples, 0);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    const startS = Math.max(context.currentTime + START_DELAY_S, this.nextStartS);
    source.start(startS);
    this.nextStartS = startS + buffer.duration;
    if (this.playing.size === 0) this.onActivity(true);
    this.playing.add(source);
    source.onended = () => {
      this.playing.delete(source);
      if (this.playing.size > 0) return;
      this.quietAfterMs = performance.now() + ECHO_TAIL_MS;
      this.onActivity(false);
    };
  }

  /**
   * True while translated speech is queued or playing, and for a short tail after it: without the
   * browser's echo cancellation the microphone would hear it, so the pages then send silence
   * instead (no translation feedback loop) and ask the speaker to wait.
   */
  get isAudible(): boolean {
    return this.playing.size > 0 || performance.now() < this.quietAfterMs;
  }

  /** Stops what is playing and drops the queue. */
  stop(): void {
    this.generation++;
    for (const source of this.playing) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // Already stopped.
      }
    }
    const wasPlaying = this.playing.size > 0;
    this.playing.clear();
    this.nextStartS = 0;
    this.carry = undefined;
    if (wasPlaying) this.onActivity(false);
  }

  private joinCarry(bytes: Uint8Array): Uint8Array {
    let joined = bytes;
    if (this.carry) {
      joined = new Uint8Array(this.carry.length + bytes.length);
      joined.set(this.carry, 0);
      joined.set(bytes, this.carry.length);
      this.carry = undefined;
    }
    if (joined.length % 2 === 1) {
      this.carry = joined.slice(joined.length - 1);
      joined = joined.subarray(0, joined.length - 1);
    }
    return joined;
  }
}
