/**
 * The conversation start screen (`/conversation`): explains the two-phone flow, lets the initiator
 * pick their language and the language they expect, and creates the conversation.
 */
import { ApiError, createConversation, type CreatedConversation } from '../api/http';
import { audioContext } from '../audio/context';
import { conversationPairNote, loadLanguages, participantOptions, pickLanguage } from '../languages';
import { backoffDelayMs } from '../net/reconnecting-socket';
import { loadPrefs, savePrefs } from '../prefs';
import type { Cleanup } from '../router';
import { languageField } from '../ui/controls';
import { h } from '../ui/dom';
import { icon, type IconName } from '../ui/icons';
import { signInCard } from '../ui/sign-in';
import { StatusBanner } from '../ui/status-banner';

/** What the start screen reports when a conversation exists. */
export interface StartOptions {
  onCreated: (created: CreatedConversation, language: string, partnerLanguage: string) => void;
}

const STEPS: [IconName, string, string][] = [
  ['chat', 'Start', 'Pick your language and start a conversation.'],
  ['qr', 'Scan', 'The other person scans the QR code and picks theirs.'],
  ['speaker', 'Talk', 'Each of you speaks; the other reads and hears the translation.'],
];

/** Mounts the start screen; returns its cleanup. */
export function mountStart(root: HTMLElement, options: StartOptions): Cleanup {
  const prefs = loadPrefs();
  const banner = new StatusBanner();
  let disposed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let ready = false;

  const mine = languageField({ id: 'my-language', label: 'I speak', testId: 'my-language', onChange: (code) => {
    savePrefs({ conversationLanguage: code });
    describePair();
  } });
  const theirs = languageField({ id: 'their-language', label: 'They speak', testId: 'their-language', onChange: (code) => {
    savePrefs({ partnerLanguage: code });
    describePair();
  } });
  const pairNote = h('p', { class: 'field-note', 'data-testid': 'pair-note', role: 'note' });
  const createLabel = h('span', {}, 'Start a conversation');
  const create = h('button', { type: 'submit', class: 'button primary large', 'data-testid': 'create-conversation', disabled: true }, icon('chat'), createLabel);
  const form = h(
    'form',
    { class: 'start-form', 'aria-label': 'Start a conversation' },
    h('div', { class: 'lang-pair two' }, mine.element, theirs.element),
    pairNote,
    create,
    h('p', { class: 'form-note' }, 'Conversations end after 15 minutes without activity.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  root.append(
    h(
      'div',
      { class: 'page page-start' },
      banner.element,
      h(
        'section',
        { class: 'card hero' },
        h(
          'div',
          { class: 'hero-main' },
          h('span', { class: 'eyebrow' }, 'Two phones · two languages'),
          h('h1', {}, 'Talk with anyone, each in your own language'),
          h('p', { class: 'lede' }, 'Start a conversation and let the other person join from their phone. Tolk translates for both of you.'),
          form,
        ),
        h(
          'ol',
          { class: 'steps', 'aria-label': 'How it works' },
          ...STEPS.map(([name, title, text], i) =>
            h('li', { class: 'step' }, h('span', { class: 'step-icon' }, icon(name)), h('div', {}, h('strong', {}, `${i + 1}. ${title}`), h('p', {}, text))),
          ),
        ),
      ),
    ),
  );

  async function load(): Promise<void> {
    clearTimeout(retryTimer);
    try {
      const catalog = await loadLanguages();
      if (disposed) return;
      if (catalog.signInRequired) {
        // Locked down (docs/security.md "Lock-down"): starting a conversation needs the key.
        banner.element.after(signInCard('you start a conversation', () => location.reload()));
        mine.setPlaceholder('Sign in first');
        theirs.setPlaceholder('Sign in first');
        return;
      }
      const language = pickLanguage(catalog, catalog.defaultSource, prefs.conversationLanguage, prefs.source);
      mine.setLanguages(participantOptions(catalog), language);
      theirs.setLanguages(participantOptions(catalog), pickLanguage(catalog, catalog.defaultTarget, prefs.partnerLanguage, prefs.target));
      describePair();
      ready = true;
      create.disabled = false;
      banner.clear('languages');
    } catch (caught) {
      if (disposed) return;
      const error = caught as ApiError;
      const delayMs = backoffDelayMs(++attempt, 2000, 30_000);
      mine.setPlaceholder(error.unreachable ? 'Offline' : 'Unavailable');
      theirs.setPlaceholder(error.unreachable ? 'Offline' : 'Unavailable');
      banner.show('languages', {
        tone: 'error',
        title: error.unreachable ? 'Cannot reach the server' : 'Conversations are unavailable right now',
        detail: error.unreachable ? 'Tolk is not answering. Check that the server is running and that you are online.' : error.message,
        retryAtMs: Date.now() + delayMs,
        action: { label: 'Retry now', run: () => void load() },
      });
      retryTimer = setTimeout(() => void load(), delayMs);
    }
  }

  /** Says what the chosen pair can do (who types, who only reads). */
  function describePair(): void {
    pairNote.textContent = mine.select.value && theirs.select.value ? conversationPairNote(mine.select.value, theirs.select.value) : '';
  }

  async function submit(): Promise<void> {
    if (!ready || create.disabled) return;
    create.disabled = true;
    createLabel.textContent = 'Starting…';
    // Unlock audio inside the click, so the partner's translated speech can play later.
    void audioContext();
    try {
      const created = await createConversation(mine.select.value, theirs.select.value);
      if (disposed) return;
      savePrefs({ conversationLanguage: mine.select.value, partnerLanguage: theirs.select.value });
      options.onCreated(created, mine.select.value, theirs.select.value);
    } catch (caught) {
      if (disposed) return;
      const error = caught instanceof ApiError ? caught : new ApiError(0, String(caught));
      banner.show('create', {
        tone: 'error',
        title: error.status === 429 ? 'Too many conversations at once' : error.unreachable ? 'Cannot reach the server' : 'The conversation could not start',
        detail: error.status === 429 ? 'You started several conversations in a short time. Wait a minute, then try again.' : error.message,
      });
      create.disabled = false;
      createLabel.textContent = 'Start a conversation';
    }
  }

  void load();
  return () => {
    disposed = true;
    clearTimeout(retryTimer);
    banner.dispose();
  };
}
