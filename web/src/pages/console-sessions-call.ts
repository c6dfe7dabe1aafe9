/**
 * Console → one call session (`/console/sessions/<id>?kind=call`, or an id that is no translation
 * session; docs/console.md "Sessions"): status, mode, languages and duration (`GET /v1/sessions/{id}`), the transcript with
 * translations (`…/transcript`), the recordings to play (`…/recordings`; each WAV fetched with the
 * key in the Authorization header and played from a `blob:` URL), and End call while live
 * (`POST …/end`). Read again every 5 s while live.
 */
import { endCallSession, getCallSession, getCallTranscript, listCallRecordings, recordingObjectUrl, type CallDetail, type CallRecording, type CallSegment } from '../api/calls';
import { PlatformError } from '../api/platform';
import { formatWhen } from '../console/format';
import { formatDurationS, statusLabel } from '../console/sessions-format';
import type { Cleanup } from '../router';
import { confirmAction } from '../ui/confirm-dialog';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';
import { backToSessions, sessionCard, sessionFact, showSessionNotFound } from './console-sessions-parts';

/** How often a live call is read again, in ms. */
const LIVE_REFRESH_MS = 5_000;

/** Mounts the page of call session `sessionId` into `root` (404: "Session not found"). */
export function mountCallDetail(root: HTMLElement, ctx: ConsoleContext, sessionId: string): Cleanup {
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const blobUrls: string[] = [];
  const summary = sessionCard('summary', `Call ${sessionId}`);
  const transcript = sessionCard('transcript', 'Transcript');
  const recordings = sessionCard('recordings', 'Recordings');
  const intelligence = sessionCard('intelligence', 'Intelligence');
  replaceChildren(intelligence.body, h('p', { class: 'console-empty', 'data-testid': 'intelligence-not-for-calls' },
    'Intelligence (sentiment, topics, action items, urgency) is computed for translation sessions; a call has its transcript and recordings instead.'));
  const load = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const call = await getCallSession(ctx.key(), sessionId);
      const segments = await getCallTranscript(ctx.key(), sessionId);
      if (!alive) return;
      replaceChildren(summary.body, callSummary(call, ctx, () => void load()));
      replaceChildren(transcript.body, segmentTable(segments));
      if (call.status !== 'completed') {
        replaceChildren(recordings.body, h('p', { class: 'console-empty', 'data-testid': 'recordings-pending' }, 'A recording is written when the call ends (if recording is enabled for it).'));
        timer = setTimeout(() => void load(), LIVE_REFRESH_MS);
        return;
      }
      const listed = await listCallRecordings(ctx.key(), sessionId);
      if (alive) replaceChildren(recordings.body, recordingList(listed, ctx, blobUrls, () => alive));
    } catch (error) {
      if (!alive) return;
      if (error instanceof PlatformError && error.status === 404) return showSessionNotFound(root, sessionId, error.message);
      ctx.fail('Loading the call', error, () => void load());
    }
  };
  root.append(backToSessions(), summary.element, transcript.element, recordings.element, intelligence.element);
  void load();
  return () => {
    alive = false;
    clearTimeout(timer);
    for (const url of blobUrls) URL.revokeObjectURL(url);
  };
}

function callSummary(call: CallDetail, ctx: ConsoleContext, reload: () => void): HTMLElement {
  const end = async (): Promise<void> => {
    if (!(await confirmAction('End this call?', 'Tolk hangs up the provider call, finishes the utterances in flight and writes the recording.', 'End call'))) return;
    try {
      await endCallSession(ctx.key(), call.id);
      reload();
    } catch (error) {
      ctx.fail('Ending the call', error);
    }
  };
  return h('div', {},
    h('p', { class: 'session-chip-row' }, h('span', { class: `session-status session-status-${call.status}`, 'data-testid': 'session-state', 'data-status': call.status }, statusLabel(call.status))),
    h('dl', { class: 'session-facts' },
      sessionFact('Mode', call.mode.replaceAll('_', ' '), 'call-mode'),
      sessionFact('Languages', `${call.sourceLang} → ${call.targetLang}`, 'session-languages'),
      sessionFact('Started', call.startedAt ? formatWhen(call.startedAt) : 'Not yet', 'session-started'),
      sessionFact('Ended', call.endedAt ? `${formatWhen(call.endedAt)}${call.endReason ? ` (${call.endReason.replaceAll('_', ' ')})` : ''}` : 'Not yet', 'session-ended'),
      sessionFact('Duration', formatDurationS(call.durationS), 'session-duration'),
    ),
    call.status === 'completed'
      ? h('p', { class: 'console-footnote', 'data-testid': 'session-ended-note' }, 'This call has ended.')
      : h('div', { class: 'session-actions', 'data-testid': 'session-actions' },
        h('button', { type: 'button', class: 'button danger-outline small', 'data-testid': 'end-call', onclick: () => void end() }, icon('stop'), 'End call'),
        h('p', { class: 'console-footnote' }, 'Any key of the organization may end a call. Escalation to a human interpreter is for translation sessions.')),
  );
}

/** The call's final segments: speaker, original, translation and start time from the call's start. */
function segmentTable(segments: readonly CallSegment[]): HTMLElement {
  if (segments.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'transcript-empty' }, 'Nothing said yet: the transcript fills in as the legs speak.');
  return h('table', { class: 'console-table transcript-table' },
    h('caption', { class: 'visually-hidden' }, 'Transcript of the call: original and translation per segment'),
    h('thead', {}, h('tr', {}, ...['At', 'Speaker', 'Original', 'Translation'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...segments.map((g) => h('tr', { 'data-testid': 'utterance' },
      h('td', { 'data-label': 'At' }, formatDurationS(g.startS)),
      h('td', { 'data-label': 'Speaker' }, g.speaker),
      h('td', { 'data-label': 'Original', 'data-testid': 'utterance-original' }, g.text),
      h('td', { 'data-label': 'Translation', 'data-testid': 'utterance-translation' }, g.translation ?? '—'))),
    ),
  );
}

/** One `<audio>` per ready recording, its WAV fetched with the key in the header (never in a URL). */
function recordingList(recordings: readonly CallRecording[], ctx: ConsoleContext, blobUrls: string[], alive: () => boolean): HTMLElement {
  if (recordings.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'recordings-empty' }, 'No recording: recording was not enabled for this call (recording.enabled in POST /v1/sessions).');
  return h('ul', { class: 'session-recordings' }, ...recordings.map((r) => {
    const label = `Recording, ${r.channel} channel, ${formatDurationS(r.durationS)}`;
    if (r.status !== 'ready') return h('li', { 'data-testid': 'recording' }, `${label}: ${r.status === 'failed' ? 'failed to write' : 'being written…'}`);
    const audio = h('audio', { controls: true, preload: 'metadata', 'aria-label': label, 'data-testid': 'recording-audio', 'data-recording-id': r.id });
    recordingObjectUrl(ctx.key(), r.id).then((url) => {
      blobUrls.push(url);
      if (alive()) audio.src = url;
    }, (error: unknown) => alive() && ctx.fail('Loading the recording', error));
    return h('li', { 'data-testid': 'recording' }, h('span', {}, label), audio);
  }));
}
