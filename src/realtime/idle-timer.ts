/**
 * A timeout that activity restarts: `arm(ms)` starts a period, `touch()` restarts it (cheap: called
 * for every audio frame), and `onIdle` runs when a period passes without activity.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onIdle: () => void) {}

  /** Starts (or restarts) a period of `ms` milliseconds. */
  arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onIdle, ms);
  }

  /** Activity: the current period starts again. No-op when not armed. */
  touch(): void {
    this.timer?.refresh();
  }

  /** Stops the timer for good (idempotent). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
