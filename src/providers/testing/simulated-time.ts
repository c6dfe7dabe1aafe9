/**
 * Simulated engine time for the fakes in `providers/testing/` (docs/architecture.md "Engines"): a fake "spends" its
 * configured cost by advancing a clock the test controls, instead of sleeping, so latency marks are
 * exact and tests run in milliseconds.
 */

/** A clock the fakes advance by the time their work would take. */
export interface SimulatedTime {
  /**
   * Moves the clock forward by `ms` milliseconds. With `node:test`, for example:
   * `{ advance: (ms) => mock.timers.tick(ms) }` after `mock.timers.enable({ apis: ['Date'] })`.
   */
  advance(ms: number): void;
}

/** The default: engine work takes no time at all. */
export const NO_SIMULATED_TIME: SimulatedTime = { advance: () => undefined };
