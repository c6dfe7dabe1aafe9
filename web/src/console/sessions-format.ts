/**
 * Pure helpers of the console's Sessions pages (docs/console.md "Sessions"): filters, durations,
 * latency, what the list says when it is empty, and the room handoff of "Start a session". No DOM
 * here, so web/src/console/sessions-format.test.ts covers them.
 */
import type { ListedSession } from '../api/platform';

/** The status filter of the list: every session, live ones (created or active), or ended ones. */
export type StatusFilter = 'all' | 'live' | 'ended';

/** The kind filter of the list: every session, translation sessions (spec 000 and rooms), or calls (spec 004). */
export type KindFilter = 'all' | ListedSession['kind'];

/** The sessions whose status matches `status` ("live" is created or active; "ended" is completed) and whose kind matches `kind`. */
export function filterSessions(sessions: readonly ListedSession[], status: StatusFilter, kind: KindFilter = 'all'): ListedSession[] {
  return sessions.filter((s) => (kind === 'all' || s.kind === kind)
    && (status === 'all' || (status === 'ended' ? s.status === 'completed' : s.status !== 'completed')));
}

/** Translation sessions and call sessions in one list, the most recently started first. */
export function mergeSessions(sessions: readonly ListedSession[], calls: readonly ListedSession[]): ListedSession[] {
  return [...sessions, ...calls].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
}

/** What a kind is called in the list. */
export function kindLabel(kind: ListedSession['kind']): string {
  return kind === 'call' ? 'Call' : 'Translation';
}

/** A duration in whole seconds as people read it: "0 s", "45 s", "2 min 05 s", "1 h 02 min". */
export function formatDurationS(totalS: number): string {
  const s = Math.max(0, Math.round(totalS));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A latency in ms ("420 ms", "1.3 s"), or "—" when it was not measured (null). */
export function formatLatencyMs(latencyMs: number | null): string {
  if (latencyMs === null) return '—';
  return latencyMs < 1000 ? `${Math.round(latencyMs)} ms` : `${(latencyMs / 1000).toFixed(1)} s`;
}

/** What a status means to the reader: "Waiting for a stream", "Live", "Ended". */
export function statusLabel(status: ListedSession['status']): string {
  return status === 'created' ? 'Waiting for a stream' : status === 'active' ? 'Live' : 'Ended';
}

/** Why the list is empty: no session at all, or none with the chosen filters. */
export function emptySessionsText(total: number, status: StatusFilter, kind: KindFilter = 'all'): string {
  if (total === 0) return 'No sessions yet. A session appears here when it is created (Start a session below, POST /api/sessions, a room of the web app, or a call with POST /v1/sessions) and stays listed after it ends.';
  const what = kind === 'call' ? 'call' : kind === 'session' ? 'translation session' : 'session';
  if (status === 'live') return `No live ${what} now. Live sessions appear here as soon as they are created.`;
  return status === 'ended' ? `No ended ${what} yet.` : `No ${what} yet.`;
}

/** What the intelligence card says instead of the analysis when the server answers 409 (the session is not completed yet). */
export const INTELLIGENCE_PENDING =
  'Intelligence (sentiment, topics, action items, urgency) is computed from the transcript once the session has ended: it is available when its last stream closes.';

/**
 * The count above the sessions list: "1 session", "12 sessions" when every session is shown, "2 of
 * 12 sessions" when a filter hides some (docs/console.md "Sessions").
 */
export function sessionCountText(shownCount: number, totalCount: number): string {
  if (shownCount === totalCount) return `${totalCount} ${totalCount === 1 ? 'session' : 'sessions'}`;
  return `${shownCount} of ${totalCount} sessions`;
}
