import { describe, expect, it } from 'vitest';
import { barGeometry, formatDuration, formatNextAttempt, linePath, niceMax, shortDay } from './ops-format';

const BOX = { width: 140, height: 130, left: 40, bottom: 20, top: 10 };

describe('ops-format', () => {
  it('formats a stream\'s running time', () => {
    expect(formatDuration(42_400)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('rounds an axis up to 1, 2 or 5 × a power of ten', () => {
    expect([niceMax(0), niceMax(0.07), niceMax(3), niceMax(14), niceMax(620), niceMax(1000)]).toEqual([1, 0.1, 5, 20, 1000, 1000]);
  });

  it('scales bars to the axis top across the plot, a 25 % gap between them', () => {
    expect(barGeometry([0, 5, 10, 2.5], 10, BOX)).toEqual([
      { x: 43.125, y: 110, width: 18.75, height: 0 },
      { x: 68.125, y: 60, width: 18.75, height: 50 },
      { x: 93.125, y: 10, width: 18.75, height: 100 },
      { x: 118.125, y: 85, width: 18.75, height: 25 },
    ]);
  });

  it('breaks a line on a day without a value', () => {
    expect(linePath([10, null, 5, 0], 10, BOX)).toBe('M52.5 10.0 M102.5 60.0 L127.5 110.0');
    expect(linePath([null, null], 10, BOX)).toBe('');
  });

  it('shows a day as the server counted it (UTC)', () => {
    expect(shortDay('2026-12-08', 'en-GB')).toBe('8 Dec');
    expect(shortDay('not a day')).toBe('not a day');
  });

  it('says when a webhook retry comes to the second, not as a minute-resolution date', () => {
    const now = Date.parse('2026-12-08T03:25:34.000Z');
    expect(formatNextAttempt(null, now)).toBe('—');
    expect(formatNextAttempt('2026-12-08T03:25:42.000Z', now, 'en-GB')).toMatch(/^in 8 s \(\d\d:\d\d:\d\d\)$/);
    expect(formatNextAttempt('2026-12-08T03:29:34.000Z', now, 'en-GB')).toMatch(/^in 4 min \(/);
    expect(formatNextAttempt('2026-12-08T03:25:30.000Z', now, 'en-GB')).toMatch(/^due now \(/);
    expect(formatNextAttempt('2026-12-08T09:00:00.000Z', now, 'en-GB')).toMatch(/8 Dec 2026/);
  });
});
