/**
 * Where a surface plays synthesized speech to its listener (docs/architecture.md "Audio output"):
 * the LiveKit interpreter's translation track, a Twilio Media Stream, a call socket. Every barge-in
 * goes through {@link AudioOutput.clear}, so "stop talking over the speaker" means one thing on
 * every surface.
 */
export interface AudioOutput {
  /** Queues s16le mono audio at the output's own rate (each implementation documents it). */
  play(pcm: Buffer): void;
  /** True while audio handed to {@link play} has not finished playing for the listener. */
  readonly playing: boolean;
  /** Barge-in: drops what is queued or buffered and not yet heard. Harmless when nothing plays. */
  clear(): void;
  /** Stops playing for good (the stream or the room ended); later audio is dropped. Idempotent. */
  close(): void | Promise<void>;
  /**
   * Calls `listener` each time the audio played so far has finished playing (the queue ran empty
   * and the listener heard it, or it was cleared). `listener` must not throw.
   * @returns the function that stops the calls.
   */
  onPlaybackFinished(listener: () => void): () => void;
}

/**
 * The listeners of an {@link AudioOutput}'s playback-finished event, for its implementations.
 */
export class PlaybackFinishedListeners {
  private readonly listeners = new Set<() => void>();

  /** {@inheritDoc AudioOutput.onPlaybackFinished} */
  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Calls every listener (listeners must not throw). */
  emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Barge-in on `output`: what is still playing to the listener is dropped.
 * @returns true when something was playing (and was cleared).
 */
export function bargeIn(output: AudioOutput): boolean {
  if (!output.playing) return false;
  output.clear();
  return true;
}
