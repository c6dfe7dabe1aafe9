/**
 * The live session's actions on its page (docs/console.md "Sessions"): revoke a participant
 * (`POST /api/sessions/:id/revoke/:participantId`, owner or admin: a member's refusal shows the
 * server's role rule) and escalate to the human-interpreter queue (`POST /api/sessions/:id/escalate`).
 * An ended session has neither: the server answers 409, so the page says so instead.
 */
import { escalateSession, revokeParticipant, type SessionDetail, type SessionParticipant } from '../api/platform';
import { confirmAction } from '../ui/confirm-dialog';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';

/** The actions of `session` (or why there are none); `reload` reads the session again after one. */
export function liveActions(session: SessionDetail, ctx: ConsoleContext, reload: () => void): HTMLElement {
  if (session.status === 'completed') {
    return h('p', { class: 'console-footnote', 'data-testid': 'session-ended-note' }, 'This session has ended: its participants cannot be revoked and it cannot be escalated.');
  }
  const present = session.participants.filter((p) => !p.revokedAt);
  return h('div', { class: 'session-actions', 'data-testid': 'session-actions' },
    h('h3', {}, 'Live session'),
    h('ul', { class: 'session-people' }, ...present.map((p) => h('li', { 'data-testid': 'participant', 'data-participant-id': p.userId },
      h('span', {}, `${p.speakerName} · ${p.role}${p.joinedAt ? '' : ' · not joined yet'}`),
      h('button', {
        type: 'button', class: 'button danger-outline small', 'data-testid': 'revoke-participant', 'aria-label': `Revoke ${p.speakerName} (${p.userId})`,
        onclick: () => void revoke(session, p, ctx, reload),
      }, icon('leave'), 'Revoke')))),
    escalateForm(session, ctx),
    h('p', { class: 'console-footnote' }, 'Revoking needs the owner or admin role: the participant\'s streams end at once and the session ends with its last stream. Any role may escalate.'),
  );
}

async function revoke(session: SessionDetail, p: SessionParticipant, ctx: ConsoleContext, reload: () => void): Promise<void> {
  if (!(await confirmAction(`Revoke ${p.speakerName}?`, 'Their streams end at once and they cannot join this session again.', 'Revoke'))) return;
  try {
    await revokeParticipant(ctx.key(), session.id, p.userId);
    ctx.banner.show('problem', { tone: 'success', title: `${p.speakerName} revoked`, detail: 'Their streams were closed; the session ends when its last stream has.' });
    reload();
  } catch (error) {
    ctx.fail('Revoking the participant', error);
  }
}

function escalateForm(session: SessionDetail, ctx: ConsoleContext): HTMLFormElement {
  const reason = h('input', { id: 'escalate-reason', name: 'reason', maxlength: 2000, autocomplete: 'off', placeholder: 'e.g. medical terms need a human', 'data-testid': 'escalate-reason' });
  const submit = h('button', { type: 'submit', class: 'button secondary', 'data-testid': 'escalate-session' }, icon('users'), 'Escalate');
  const form = h('form', { class: 'console-form escalate-form' },
    h('div', { class: 'field' }, h('label', { for: 'escalate-reason' }, 'Escalate to a human interpreter (reason, optional)'), reason), submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    escalateSession(ctx.key(), session.id, reason.value.trim()).then((position) => {
      form.reset();
      ctx.banner.show('problem', { tone: 'success', title: 'Escalated', detail: `The session is number ${position} in the human-interpreter queue.` });
    }, (error: unknown) => ctx.fail('Escalating the session', error)).finally(() => {
      submit.disabled = false;
    });
  });
  return form;
}
