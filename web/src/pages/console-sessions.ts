/**
 * Console → Sessions (docs/console.md "Sessions"): the organization's sessions, live and ended —
 * translation sessions (`GET /api/sessions`, participants from `GET /api/sessions/active`) and call
 * sessions (`GET /v1/sessions`) — with kind, status, languages, start, duration and participants;
 * kind and status filters; each row opens the session page
 * (console-sessions-detail.ts). "Start a session" creates one (`POST /api/sessions`) and opens the
 * room page with its room ready to join (the token handed in memory: console/sessions-room.ts).
 */
import { listCallSessions } from '../api/calls';
import { createSession, listSessions, type ListedSession } from '../api/platform';
import { formatWhen } from '../console/format';
import { emptySessionsText, filterSessions, formatDurationS, kindLabel, mergeSessions, sessionCountText, statusLabel } from '../console/sessions-format';
import { handRoom } from '../console/sessions-room';
import { navigate, type Cleanup } from '../router';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';

/** How often the list is read again while it shows a live session, in ms. */
const LIVE_REFRESH_MS = 5_000;

/** Mounts the Sessions list into `root`. */
export function mountSessions(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  let sessions: ListedSession[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const filter = h('select', { id: 'sessions-status', name: 'status', 'data-testid': 'sessions-status' },
    h('option', { value: 'all' }, 'All sessions'), h('option', { value: 'live' }, 'Live'), h('option', { value: 'ended' }, 'Ended'));
  const kind = h('select', { id: 'sessions-kind', name: 'kind', 'data-testid': 'sessions-kind' },
    h('option', { value: 'all' }, 'All kinds'), h('option', { value: 'session' }, 'Translation sessions'), h('option', { value: 'call' }, 'Calls'));
  const count = h('p', { class: 'console-count', 'data-testid': 'sessions-count', 'aria-live': 'polite' });
  const tableSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'session-list', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading sessions…'));
  const render = (): void => {
    const status = filter.value === 'live' || filter.value === 'ended' ? filter.value : 'all';
    const kindValue = kind.value === 'session' || kind.value === 'call' ? kind.value : 'all';
    const shown = filterSessions(sessions, status, kindValue);
    count.textContent = sessionCountText(shown.length, sessions.length);
    replaceChildren(tableSlot, shown.length === 0 ? h('p', { class: 'console-empty', 'data-testid': 'sessions-empty' }, emptySessionsText(sessions.length, status, kindValue)) : sessionTable(shown));
  };
  const refresh = (): void => {
    clearTimeout(timer);
    Promise.all([listSessions(ctx.key()), listCallSessions(ctx.key())]).then(([translations, calls]) => {
      if (!alive) return;
      const listed = mergeSessions(translations, calls);
      sessions = listed;
      tableSlot.removeAttribute('aria-busy');
      render();
      if (listed.some((s) => s.status !== 'completed')) timer = setTimeout(refresh, LIVE_REFRESH_MS);
    }, (error: unknown) => alive && ctx.fail('Loading the sessions', error, refresh));
  };
  filter.addEventListener('change', render);
  kind.addEventListener('change', render);
  root.append(
    h('section', { class: 'card console-card', 'aria-labelledby': 'sessions-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'sessions-title' }, 'Sessions'),
        h('div', { class: 'card-head-tools' }, h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'sessions-refresh', onclick: refresh }, icon('refresh'), 'Refresh'))),
      h('div', { class: 'console-form sessions-filter' },
        h('div', { class: 'field' }, h('label', { for: 'sessions-kind' }, 'Kind'), h('div', { class: 'select-wrap' }, kind)),
        h('div', { class: 'field' }, h('label', { for: 'sessions-status' }, 'Status'), h('div', { class: 'select-wrap' }, filter)), count),
      tableSlot,
      h('p', { class: 'console-footnote' }, 'This organization\'s sessions, newest first (the last 100 of each kind): translation sessions (POST /api/sessions and the LiveKit rooms of the web app) and calls (POST /v1/sessions). Live sessions are read again every 5 s.'),
    ),
    startCard(ctx),
  );
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

/** The sessions table (cards on a phone); the id links to the session page. */
function sessionTable(sessions: readonly ListedSession[]): HTMLElement {
  const rows = sessions.map((s) => h('tr', { 'data-testid': 'session-row', 'data-session-id': s.id, 'data-status': s.status, 'data-kind': s.kind },
    h('th', { scope: 'row', 'data-label': 'Session' }, h('a', { href: `/console/sessions/${encodeURIComponent(s.id)}${s.kind === 'call' ? '?kind=call' : ''}`, 'data-link': true, 'data-testid': 'session-link' }, h('code', {}, s.id))),
    h('td', { 'data-label': 'Kind', 'data-testid': 'session-kind' }, kindLabel(s.kind)),
    h('td', { 'data-label': 'Status', 'data-testid': 'session-status' }, h('span', { class: `session-status session-status-${s.status}` }, statusLabel(s.status))),
    h('td', { 'data-label': 'Languages', 'data-testid': 'session-languages' }, `${s.sourceLang} → ${s.targetLang}`),
    h('td', { 'data-label': 'Started' }, formatWhen(s.startedAt)),
    h('td', { 'data-label': 'Duration', 'data-testid': 'session-duration' }, formatDurationS(s.durationS)),
    h('td', { 'data-label': 'Participants', 'data-testid': 'session-participants' }, s.participants === undefined ? '—' : String(s.participants)),
  ));
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'Sessions of this organization'),
    h('thead', {}, h('tr', {}, ...['Session', 'Kind', 'Status', 'Languages', 'Started', 'Duration', 'Participants'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows),
  );
}

/** "Start a session": a language pair, then the room page with the new session's room ready to join. */
function startCard(ctx: ConsoleContext): HTMLElement {
  const source = h('input', { id: 'new-session-source', name: 'source', required: true, value: 'en', maxlength: 35, autocomplete: 'off', 'data-testid': 'new-session-source' });
  const target = h('input', { id: 'new-session-target', name: 'target', required: true, value: 'es', maxlength: 35, autocomplete: 'off', 'data-testid': 'new-session-target' });
  const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'start-session' }, icon('globe'), 'Start and join its room');
  const form = h('form', { class: 'console-form start-session-form' },
    h('div', { class: 'field' }, h('label', { for: 'new-session-source' }, 'From (BCP-47)'), source),
    h('div', { class: 'field' }, h('label', { for: 'new-session-target' }, 'To (BCP-47)'), target),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    createSession(ctx.key(), { sourceLang: source.value.trim(), targetLang: target.value.trim() }).then((created) => {
      handRoom({ url: created.liveKitUrl, token: created.roomToken, sessionId: created.sessionId });
      navigate('/room');
    }, (error: unknown) => {
      submit.disabled = false;
      ctx.fail('Starting a session', error);
    });
  });
  return h('section', { class: 'card console-card', 'aria-labelledby': 'start-session-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'start-session-title' }, 'Start a session')),
    h('p', { class: 'console-footnote' }, 'Creates a session (POST /api/sessions) and opens the Room page with its LiveKit room filled in: press Join to speak in it. The room token stays in this tab\'s memory.'),
    form,
  );
}
