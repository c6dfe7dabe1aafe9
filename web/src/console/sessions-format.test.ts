import { describe, expect, it } from 'vitest';
import type { ListedSession } from '../api/platform';
import { emptySessionsText, filterSessions, formatDurationS, formatLatencyMs, statusLabel } from './sessions-format';

const session = (id: string, status: ListedSession['status']): ListedSession => ({
  id, status, sourceLang: 'en', targetLang: 'es', startedAt: '2026-12-08T00:00:00.000Z', endedAt: null, durationS: 0, participants: undefined,
});
const sessions = [session('a', 'created'), session('b', 'active'), session('c', 'completed')];

describe('console sessions format', () => {
  it('filters by status: live is created or active, ended is completed', () => {
    expect(filterSessions(sessions, 'all').map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(filterSessions(sessions, 'live').map((s) => s.id)).toEqual(['a', 'b']);
    expect(filterSessions(sessions, 'ended').map((s) => s.id)).toEqual(['c']);
  });

  it('formats durations and latencies with their units', () => {
    expect(formatDurationS(0)).toBe('0 s');
    expect(formatDurationS(45)).toBe('45 s');
    expect(formatDurationS(125)).toBe('2 min 05 s');
    expect(formatDurationS(3720)).toBe('1 h 02 min');
    expect(formatLatencyMs(420)).toBe('420 ms');
    expect(formatLatencyMs(1340)).toBe('1.3 s');
    expect(formatLatencyMs(null)).toBe('—');
  });

  it('names statuses and explains an empty list', () => {
    expect(sessions.map((s) => statusLabel(s.status))).toEqual(['Waiting for a stream', 'Live', 'Ended']);
    expect(emptySessionsText(0, 'all')).toMatch(/^No sessions yet\./);
    expect(emptySessionsText(3, 'live')).toBe('No live session now (3 ended). Live sessions appear here as soon as they are created.');
    expect(emptySessionsText(2, 'ended')).toBe('No ended session yet (2 live).');
  });
});
