/**
 * The join screen (`/join/<id>`, and `/conversation?id=…` for an initiator coming back): looks the
 * conversation up, shows the initiator's language, lets the visitor pick theirs, and joins on a click
 * (which also unlocks audio playback). Also the "conversation ended" screen.
 */
import { ApiError, fetchConversation, type ConversationInfo } from '../api/http';
import { audioContext } from '../audio/context';
import { conversationPairNote, languageName, loadLanguages, participantOptions, pickLanguage } from '../languages';
import { backoffDelayMs } from '../net/reconnecting-socket';
import { loadPrefs, savePrefs } from '../prefs';
import type { Cleanup } from '../router';
import { languageField } from '../ui/controls';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';
import { StatusBanner } from '../ui/status-banner';

/** What the join screen needs and reports. */
export interface JoinOptions {
  role: 'host' | 'guest';
  conversationId: string;
  /** The initiator's own language from the URL (host only). */
  preferredLanguage: string | undefined;
  /** A problem to show first, e.g. the server refused the previously chosen language. */
  problem: string | undefined;
  onJoin: (language: string, partnerLanguage: string | undefined) => void;
}

/** Mounts the join screen; returns its cleanup. */
export function mountJoin(root: HTMLElement, options: JoinOptions): Cleanup {
  const prefs = loadPrefs();
  const banner = new StatusBanner();
  let disposed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let info: ConversationInfo | undefined;
  const host = options.role === 'host';

  const mine = languageField({ id: 'my-language', label: 'I speak', testId: 'my-language', onChange: (code) => {
    savePrefs({ conversationLanguage: code });
    describePair();
  } });
  const pairNote = h('p', { class: 'field-note', 'data-testid': 'pair-note', role: 'note' });
  const partner = h('strong', { 'data-testid': 'initiator-language' }, '…');
  const joinButton = h('button', { type: 'submit', class: 'button primary large', 'data-testid': 'join-conversation', disabled: true }, icon('chat'), host ? 'Continue the conversation' : 'Join the conversation');
  const form = h('form', { class: 'join-form', 'aria-label': 'Join the conversation' }, mine.element, pairNote, joinButton);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!info || joinButton.disabled) return;
    void audioContext();
    savePrefs({ conversationLanguage: mine.select.value });
    options.onJoin(mine.select.value, host ? info.initiatorTranslateLanguage || undefined : info.initiatorLanguage);
  });
  const card = h(
    'section',
    { class: 'card join-card', 'aria-busy': 'true' },
    h('span', { class: 'notice-icon' }, icon(host ? 'chat' : 'users')),
    h('h1', {}, host ? 'Continue your conversation' : 'You are invited to a conversation'),
    h('p', { class: 'lede' }, host ? 'You started this conversation expecting ' : 'The other person speaks ', partner, '. Choose the language you will speak.'),
    form,
    h('p', { class: 'form-note' }, 'Your microphone is used only while you hold the conversation open and press the button.'),
  );
  root.append(h('div', { class: 'page page-center' }, banner.element, card));
  if (options.problem) banner.show('problem', { tone: 'error', title: 'Choose another language', detail: options.problem });

  async function load(): Promise<void> {
    clearTimeout(retryTimer);
    try {
      const [catalog, conversation] = await Promise.all([loadLanguages(), fetchConversation(options.conversationId)]);
      if (disposed) return;
      info = conversation;
      partner.textContent = languageName(host ? conversation.initiatorTranslateLanguage : conversation.initiatorLanguage);
      const suggested = host
        ? pickLanguage(catalog, catalog.defaultSource, options.preferredLanguage, conversation.initiatorLanguage)
        : pickLanguage(catalog, catalog.defaultTarget, conversation.initiatorTranslateLanguage, prefs.conversationLanguage);
      mine.setLanguages(participantOptions(catalog), suggested);
      describePair();
      joinButton.disabled = false;
      card.setAttribute('aria-busy', 'false');
      banner.clear('lookup');
    } catch (caught) {
      if (disposed) return;
      const error = caught instanceof ApiError ? caught : new ApiError(0, String(caught));
      if (error.status === 404) {
        root.replaceChildren();
        mountConversationEnded(root, undefined);
        return;
      }
      const delayMs = backoffDelayMs(++attempt, 2000, 30_000);
      mine.setPlaceholder(error.unreachable ? 'Offline' : 'Unavailable');
      banner.show('lookup', {
        tone: 'error',
        title: error.unreachable ? 'Cannot reach the server' : 'The conversation could not be opened',
        detail: error.unreachable ? 'Tolk is not answering. Check your network connection.' : error.message,
        retryAtMs: Date.now() + delayMs,
        action: { label: 'Retry now', run: () => void load() },
      });
      retryTimer = setTimeout(() => void load(), delayMs);
    }
  }

  /** Says, before anyone speaks, what the chosen language can do here (typing when it cannot be heard). */
  function describePair(): void {
    const theirs = info && (host ? info.initiatorTranslateLanguage : info.initiatorLanguage);
    pairNote.textContent = theirs && mine.select.value ? conversationPairNote(mine.select.value, theirs) : '';
  }

  void load();
  return () => {
    disposed = true;
    clearTimeout(retryTimer);
    banner.dispose();
  };
}

/** Mounts the "conversation not found or expired" screen. */
export function mountConversationEnded(root: HTMLElement, serverMessage: string | undefined): Cleanup {
  root.append(
    h(
      'div',
      { class: 'page page-center' },
      h(
        'section',
        { class: 'card notice-card', 'data-testid': 'conversation-missing', role: 'alert' },
        h('span', { class: 'notice-icon warn' }, icon('alert')),
        h('h1', {}, 'This conversation has ended'),
        h(
          'p',
          { class: 'lede' },
          'The link is no longer valid: conversations expire after 15 minutes without activity. Ask for a new QR code, or start your own.',
        ),
        serverMessage ? h('p', { class: 'server-message' }, serverMessage) : null,
        h('div', { class: 'notice-actions' }, h('a', { href: '/conversation', 'data-link': true, class: 'button primary' }, 'Start a new conversation')),
      ),
    ),
  );
  return () => {};
}
