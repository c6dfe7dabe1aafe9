/** A decoder call waiting for a thread. */
interface Job {
  urgent: () => boolean;
  start: () => void;
}

/**
 * Runs recognizer calls on libuv's thread pool at most `concurrency` at a time — as many as the
 * cores, so decodes of different streams do not contend for a core with each other or with the event
 * loop's pool work — in two classes: calls of a stream whose final is awaited (`urgent`, read when
 * a thread frees up, so a stream flushed after it queued is served first) before the others, and in
 * arrival order within a class. A stream queues its next call only after its previous one finished,
 * so streams take turns (round-robin) and none falls behind while another decodes a long backlog.
 */
export class DecodeScheduler {
  private running = 0;
  private readonly waiting: Job[] = [];

  /** @param concurrency - calls running at once, at least 1 (usually the cores of the machine). */
  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error(`decode concurrency must be at least 1, got ${concurrency}`);
  }

  /** Calls waiting for a thread. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when a thread is free.
   * @param urgent - whether the calling stream has a final awaited (read at dispatch).
   * @returns what `task` resolves to; rejects with its error.
   */
  run<T>(urgent: () => boolean, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        task().then(resolve, reject).finally(() => {
          this.running--;
          this.next();
        });
      };
      this.waiting.push({ urgent, start });
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      let i = this.waiting.findIndex((j) => j.urgent());
      if (i < 0) i = 0;
      const [job] = this.waiting.splice(i, 1);
      job?.start();
    }
  }
}
