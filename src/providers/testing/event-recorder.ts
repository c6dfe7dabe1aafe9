/** Default longest wait of {@link EventRecorder.waitFor}, in ms: a guard against a hung test, not a delay. */
export const DEFAULT_WAIT_TIMEOUT_MS = 2000;

/**
 * Records the events a component emits (pass `recorder.push` as its callback) and lets a test wait
 * until they satisfy a condition, in the style of pipecat's processor tests: events in, assert the
 * events out, in order. A wait resolves as soon as the condition holds, never after a fixed delay.
 */
export class EventRecorder<T> {
  /** Every event so far, in order of arrival. */
  readonly events: T[] = [];
  private readonly waiters = new Set<() => void>();

  /** Records an event (bound: safe to pass as a callback). */
  readonly push = (event: T): void => {
    this.events.push(event);
    for (const check of [...this.waiters]) check();
  };

  /**
   * Resolves with the events once `condition(events)` is true (checked now and after each event).
   * @throws {Error} naming `description` and the events seen, when `timeoutMs` passes first.
   */
  waitFor(condition: (events: readonly T[]) => boolean, description = 'condition', timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<readonly T[]> {
    if (condition(this.events)) return Promise.resolve(this.events);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition(this.events)) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(this.events);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}; got ${this.events.length} events`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves once `count` events match `predicate`. @throws {Error} as {@link waitFor}. */
  waitForCount(predicate: (event: T) => boolean, count: number, description = `${count} matching events`): Promise<readonly T[]> {
    return this.waitFor((events) => events.filter(predicate).length >= count, description);
  }
}
