import type { WebSocket } from 'ws';

/** Backlog of audio not yet taken by the recognizer at which reading from the peer pauses, in ms. */
export const PAUSE_BACKLOG_MS = 2000;

/**
 * Flow control of one audio WebSocket (a `/vt` client, or a gateway on leg 2): while the consumer
 * is more than {@link PAUSE_BACKLOG_MS} behind, reading pauses and TCP flow control slows the
 * sender; reading resumes under half of it. `release()` reads again for good: on every way out, since
 * a paused socket never reads the peer's close frame and its close would wait ws's 30 s timeout.
 */
export class WsBackpressure {
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param ws - the socket to pause and resume.
   * @param backlogMs - the consumer's backlog now, in ms; undefined once there is none to wait for
   *   (the stream ended): reading resumes.
   */
  constructor(private readonly ws: WebSocket, private readonly backlogMs: () => number | undefined) {}

  /** Call after each audio frame: pauses reading when the backlog is over the limit. */
  check(): void {
    if (this.timer || (this.backlogMs() ?? 0) < PAUSE_BACKLOG_MS) return;
    this.ws.pause();
    this.timer = setInterval(() => {
      const backlog = this.backlogMs();
      if (backlog === undefined || backlog < PAUSE_BACKLOG_MS / 2) this.release();
    }, 20);
  }

  /** Reads from the peer again (idempotent). */
  release(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.ws.isPaused) this.ws.resume();
  }
}
