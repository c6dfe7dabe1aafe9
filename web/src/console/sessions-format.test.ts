import { describe, expect, it } from 'vitest';
import type { ListedSession } from '../api/platform';
import { emptySessionsText, filterSessions, formatDurationS, formatLatencyMs, kindLabel, mergeSessions, sessionCountText, statusLabel } from './sessions-format';

const session = (id: string, status: ListedSession['status'], kind: ListedSession['kind'] = 'session', startedAt = '2026-12-08T00:00:00.000Z'): ListedSession => ({
  id, kind, status, sourceLang: 'en', targetLang: 'es', startedAt, endedAt: null, durationS: 0, participants: undefined,
});
const sessions = [session('a', 'created'), session('b', 'active'), session('c', 'completed')];

describe('console sessions format', () => {
  it('filters by status: live is created or active, ended is completed', () => {
    expect(filterSessions(sessions, 'all').map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(filterSessions(sessions, 'live').map((s) => s.id)).toEqual(['a', 'b']);
    expect(filterSessions(sessions, 'ended').map((s) => s.id)).toEqual(['c']);
  });

  it('merges calls into the list, newest first, and filters by kind', () => {
    const calls = [session('k1', 'active', 'call', '2026-12-08T00:00:05.000Z'), session('k2', 'completed', 'call', '2026-12-07T23:00:00.000Z')];
    const merged = mergeSessions(sessions, calls);
    expect(merged.map((s) => s.id)).toEqual(['k1', 'a', 'b', 'c', 'k2']);
    expect(filterSessions(merged, 'all', 'call').map((s) => s.id)).toEqual(['k1', 'k2']);
    expect(filterSessions(merged, 'live', 'call').map((s) => s.id)).toEqual(['k1']);
    expect(filterSessions(merged, 'ended', 'session').map((s) => s.id)).toEqual(['c']);
    expect(merged.map((s) => kindLabel(s.kind))).toEqual(['Call', 'Translation', 'Translation', 'Translation', 'Call']);
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
    expect(emptySessionsText(3, 'live')).toBe('No live session now. Live sessions appear here as soon as they are created.');
    expect(emptySessionsText(3, 'live', 'call')).toBe('No live call now. Live sessions appear here as soon as they are created.');
    expect(emptySessionsText(2, 'ended', 'session')).toBe('No ended translation session yet.');
    expect(emptySessionsText(2, 'all', 'call')).toBe('No call yet.');
  });

  it('counts the sessions without "1 of 1 sessions": all shown, or how many a filter leaves', () => {
    expect(sessionCountText(1, 1)).toBe('1 session');
    expect(sessionCountText(0, 0)).toBe('0 sessions');
    expect(sessionCountText(12, 12)).toBe('12 sessions');
    expect(sessionCountText(2, 12)).toBe('2 of 12 sessions');
    expect(sessionCountText(0, 1)).toBe('0 of 1 sessions');
  });
});
