import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './reconnecting-socket';

describe('backoffDelayMs', () => {
  it('doubles from the base delay and stops at the cap', () => {
    const noJitter = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, 500, 15_000, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  it('spreads retries by ±20 %', () => {
    expect(backoffDelayMs(3, 500, 15_000, () => 0)).toBe(1600);
    expect(backoffDelayMs(3, 500, 15_000, () => 1)).toBe(2400);
  });
});
