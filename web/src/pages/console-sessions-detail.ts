/**
 * Console → one session (`/console/sessions/<id>`, docs/console.md "Sessions"): status, languages,
 * duration and participants (`GET /api/sessions/:id`); the transcript, original and translation per
 * utterance with latency (`GET /api/sessions/:id/transcript`); intelligence once it ended
 * (`GET /api/sessions/:id/intelligence`, 409 while live: explained); revoke a participant and
 * escalate while live. Read again every 5 s while live, so a revoked session is seen to end. An id
 * that is no translation session is looked up as a call session (console-sessions-call.ts).
 */
import { getIntelligence, getSession, getTranscript, PlatformError, type SessionDetail, type SessionIntelligence, type TranscriptLine } from '../api/platform';
import { formatWhen } from '../console/format';
import { formatDurationS, formatLatencyMs, INTELLIGENCE_PENDING, statusLabel } from '../console/sessions-format';
import type { Cleanup } from '../router';
import { h, replaceChildren } from '../ui/dom';
import type { ConsoleContext } from './console';
import { liveActions } from './console-sessions-actions';
import { mountCallDetail } from './console-sessions-call';
import { backToSessions, sessionCard, sessionFact } from './console-sessions-parts';

/** How often a live session is read again, in ms: two requests each time, 24 a minute of the key's 100 (docs/platform.md "Rate limits"). */
const LIVE_REFRESH_MS = 5_000;

/** Mounts the page of session `sessionId` into `root`. */
export function mountSessionDetail(root: HTMLElement, ctx: ConsoleContext, sessionId: string): Cleanup {
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const summary = h('section', { class: 'card console-card', 'data-testid': 'session-summary', 'aria-labelledby': 'session-title', 'aria-busy': 'true' },
    h('div', { class: 'card-head' }, h('h2', { id: 'session-title' }, 'Session ', h('code', {}, sessionId))), h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the session…'));
  const transcript = sessionCard('transcript', 'Transcript');
  const intelligence = sessionCard('intelligence', 'Intelligence');
  const facts = h('div', {});
  const actions = h('div', {});
  let actionsFor = '';
  let call: Cleanup | undefined;
  const load = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const session = await getSession(ctx.key(), sessionId);
      const lines = await getTranscript(ctx.key(), sessionId);
      if (!alive) return;
      if (summary.hasAttribute('aria-busy')) replaceChildren(summary, facts, actions);
      summary.removeAttribute('aria-busy');
      replaceChildren(facts, ...summaryParts(session));
      // The actions (a form, buttons) are rebuilt only when what they act on changed: a refresh keeps the focus and typed text.
      const signature = JSON.stringify([session.status, session.participants.map((p) => [p.userId, p.revokedAt, p.joinedAt])]);
      if (signature !== actionsFor) replaceChildren(actions, liveActions(session, ctx, () => void load()));
      actionsFor = signature;
      replaceChildren(transcript.body, transcriptTable(lines));
      if (session.status === 'completed') await showIntelligence(ctx, sessionId, intelligence.body, () => alive);
      else {
        replaceChildren(intelligence.body, h('p', { class: 'console-empty', 'data-testid': 'intelligence-pending' }, INTELLIGENCE_PENDING));
        timer = setTimeout(() => void load(), LIVE_REFRESH_MS);
      }
    } catch (error) {
      if (!alive) return;
      // Not a translation session: maybe a call session (spec 004), which has its own page.
      if (error instanceof PlatformError && error.status === 404) {
        replaceChildren(root);
        call = mountCallDetail(root, ctx, sessionId);
        return;
      }
      ctx.fail('Loading the session', error, () => void load());
    }
  };
  root.append(
    backToSessions(),
    summary, transcript.element, intelligence.element,
  );
  void load();
  return () => {
    alive = false;
    clearTimeout(timer);
    call?.();
  };
}

/** The session's head and facts: status, languages, start, end, duration, participants. */
function summaryParts(s: SessionDetail): HTMLElement[] {
  const fact = sessionFact;
  const people = s.participants.map((p) => `${p.speakerName} (${p.role}${p.revokedAt ? ', revoked' : p.joinedAt ? '' : ', never joined'})`).join(', ');
  return [
    h('div', { class: 'card-head' }, h('h2', { id: 'session-title' }, 'Session ', h('code', {}, s.id)),
      h('span', { class: `session-status session-status-${s.status}`, 'data-testid': 'session-state', 'data-status': s.status }, statusLabel(s.status))),
    h('dl', { class: 'session-facts' },
      fact('Languages', `${s.sourceLang} → ${s.targetLang}`, 'session-languages'),
      fact('Started', formatWhen(s.startedAt), 'session-started'),
      fact('Ended', s.endedAt ? formatWhen(s.endedAt) : 'Not yet', 'session-ended'),
      fact('Duration', formatDurationS(s.durationS), 'session-duration'),
      fact('Participants', people || 'None', 'session-people'),
    ),
  ];
}

/** Original and translation per utterance, with the end-of-speech → translation latency. */
function transcriptTable(lines: readonly TranscriptLine[]): HTMLElement {
  if (lines.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'transcript-empty' }, 'Nothing said yet: the transcript fills in as the session\'s streams send final transcripts.');
  const rows = lines.map((u) => h('tr', { 'data-testid': 'utterance', 'data-utterance-id': u.id },
    h('td', { 'data-label': 'Time', class: 'transcript-nowrap' }, new Date(u.startedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })),
    h('td', { 'data-label': 'Speaker' }, u.speakerName),
    h('td', { 'data-label': 'Original', 'data-testid': 'utterance-original' }, u.text),
    h('td', { 'data-label': 'Translation', 'data-testid': 'utterance-translation' }, u.translation ?? '—'),
    h('td', { 'data-label': 'Latency', 'data-testid': 'utterance-latency', class: 'transcript-nowrap', title: 'End of speech → translation' }, formatLatencyMs(u.translationLatencyMs)),
  ));
  return h('table', { class: 'console-table transcript-table' },
    h('caption', { class: 'visually-hidden' }, 'Transcript: original and translation per utterance, with latency from the end of speech to the translation'),
    h('thead', {}, h('tr', {}, ...['Time', 'Speaker', 'Original', 'Translation', 'Latency'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows),
  );
}

/** Reads and shows the intelligence of an ended session (409 explained; anything else to the banner). */
async function showIntelligence(ctx: ConsoleContext, sessionId: string, slot: HTMLElement, alive: () => boolean): Promise<void> {
  try {
    const found = await getIntelligence(ctx.key(), sessionId);
    if (alive()) replaceChildren(slot, intelligenceView(found));
  } catch (error) {
    if (!alive()) return;
    if (error instanceof PlatformError && error.status === 409) replaceChildren(slot, h('p', { class: 'console-empty', 'data-testid': 'intelligence-pending' }, `${INTELLIGENCE_PENDING} ${error.message}`));
    else ctx.fail('Loading the intelligence', error);
  }
}

function intelligenceView(i: SessionIntelligence): HTMLElement {
  const list = (items: string[], testId: string, none: string) => (items.length === 0
    ? h('p', { 'data-testid': testId }, none)
    : h('ul', { 'data-testid': testId }, ...items.map((t) => h('li', {}, t))));
  return h('dl', { class: 'session-facts intelligence' },
    h('div', { class: 'session-fact' }, h('dt', {}, 'Sentiment'), h('dd', { 'data-testid': 'intelligence-sentiment' }, `${i.overallSentiment} (${i.sentimentScore.toFixed(2)})`)),
    h('div', { class: 'session-fact' }, h('dt', {}, 'Urgency'), h('dd', { 'data-testid': 'intelligence-urgency' }, i.urgencyLevel)),
    h('div', { class: 'session-fact' }, h('dt', {}, 'Average latency'), h('dd', { 'data-testid': 'intelligence-latency' }, `${formatLatencyMs(i.averageLatencyMs)} over ${i.transcriptCount} transcripts`)),
    h('div', { class: 'session-fact wide' }, h('dt', {}, 'Topics'), h('dd', {}, list(i.extractedTopics, 'intelligence-topics', 'No topic found.'))),
    h('div', { class: 'session-fact wide' }, h('dt', {}, 'Action items'), h('dd', {}, list(i.actionItems, 'intelligence-actions', 'No action item found.'))),
  );
}
