/**
 * Pieces the console's session pages share (docs/console.md "Sessions"): a titled card, a fact of
 * the session's summary, the link back to the list, and the "Session not found" state.
 */
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';

/** A card titled `title` whose body (`data-testid="session-<name>"`) says "Loading…" until filled. */
export function sessionCard(name: string, title: string): { element: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'console-table-wrap', 'data-testid': `session-${name}` }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading…'));
  const element = h('section', { class: 'card console-card', 'aria-labelledby': `session-${name}-title` },
    h('div', { class: 'card-head' }, h('h2', { id: `session-${name}-title` }, title)), body);
  return { element, body };
}

/** One labelled fact of a session's summary (a `<dt>`/`<dd>` pair in its own box). */
export function sessionFact(label: string, value: string, testId: string): HTMLElement {
  return h('div', { class: 'session-fact' }, h('dt', {}, label), h('dd', { 'data-testid': testId }, value));
}

/** The link back to the Sessions list. */
export function backToSessions(): HTMLElement {
  return h('p', { class: 'console-back' }, h('a', { href: '/console/sessions', 'data-link': true, 'data-testid': 'back-to-sessions' }, icon('back'), 'All sessions'));
}

/** 404: no session or call with this id, or one of another organization (the server does not say which). */
export function showSessionNotFound(root: HTMLElement, sessionId: string, message: string): void {
  replaceChildren(root, backToSessions(),
    h('section', { class: 'card console-card', 'data-testid': 'session-not-found', role: 'alert' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Session not found')),
      h('p', { class: 'console-empty' }, `${message.replace(/[.!]$/, '')}. No session or call ${sessionId} is visible to this key: check the address, or sign in with a key of the organization that owns it.`)));
}
