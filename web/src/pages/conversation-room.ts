/**
 * The conversation room: chat bubbles in my language, my interim as a faded bubble, participant count
 * and partner language, the microphone, and (for the initiator) the QR invitation. Talks to
 * `/api/v1/ws/<conversation_id>?language=<code>`; reconnects with backoff; 4404 and 4400 end it.
 */
import { parseConversationMessage } from '../api/messages';
import { CAPTURE_SAMPLE_RATE_HZ, MicError, Microphone } from '../audio/microphone';
import { PcmPlayer } from '../audio/player';
import { isHeard, languageName } from '../languages';
import { ReconnectingSocket, type SocketState } from '../net/reconnecting-socket';
import type { Cleanup } from '../router';
import { ChatView } from '../ui/chat';
import { MicButton } from '../ui/controls';
import { h } from '../ui/dom';
import { micErrorMessage, serverErrorMessage } from '../ui/explanations';
import { icon } from '../ui/icons';
import { invitePanel } from '../ui/invite';
import { StatusBanner } from '../ui/status-banner';

/** Close code: the conversation does not exist or expired. */
const CLOSE_UNKNOWN_CONVERSATION = 4404;
/** Close code: the chosen language is not supported. */
const CLOSE_UNSUPPORTED_LANGUAGE = 4400;

/** What the room needs and reports. */
export interface RoomOptions {
  role: 'host' | 'guest';
  conversationId: string;
  /** The language I speak and read, sent as `?language=`. */
  language: string;
  /** The partner's language as known before they connect (the guest knows it; the host expects it). */
  partnerLanguageHint: string | undefined;
  joinUrl: string;
  /** Why a phone may not open `joinUrl` (the server's `join_url_warning`), shown with the invitation. */
  joinUrlWarning?: string | null;
  onLeave: () => void;
  /** The server ended the room for good: the conversation expired, or my language is refused. */
  onClosed: (reason: 'expired' | 'unsupported', serverMessage: string | undefined) => void;
}

/** Mounts the room; returns its cleanup. */
export function mountRoom(root: HTMLElement, options: RoomOptions): Cleanup {
  const host = options.role === 'host';
  const banner = new StatusBanner();
  const microphone = new Microphone();
  const chat = new ChatView();
  let micState: 'idle' | 'starting' | 'live' = 'idle';
  /** Whether the browser cancels the echo of the partner's speech (read when the microphone starts). */
  let echoCancelled = true;
  let everConnected = false;
  /**
   * From each (re)connection until the server's `user_joined` for my own arrival: a partner reported
   * then was already there, so the page does not say "Your partner joined".
   */
  let joining = false;
  let partnerPresent = false;
  let partnerLanguage = host ? undefined : options.partnerLanguageHint;
  let lastServerError: string | undefined;
  let disposed = false;

  const count = h('span', { class: 'presence', 'data-testid': 'participant-count', 'data-count': '1' });
  const partnerName = h('dd', { 'data-testid': 'partner-language' });
  const connection = h('span', { class: 'pill', 'data-testid': 'connection-state', 'data-state': 'connecting' }, 'Connecting…');
  const playback = h('span', { class: 'pill playing', 'data-testid': 'playback-indicator', hidden: true }, icon('speaker'), 'Speaking');
  const player = new PcmPlayer(CAPTURE_SAMPLE_RATE_HZ, (playing) => (playback.hidden = !playing));
  const heard = isHeard(options.language);
  const micButton = new MicButton(toggleMicrophone, {
    idle: heard ? 'Tap to speak' : 'Speech is not recognized here',
    starting: 'Starting the microphone…',
    live: heard ? 'Listening — tap when you are done' : `${languageName(options.language)} is not recognized — type below`,
    disabled: 'Connecting…',
  });
  // Said before anyone speaks (docs/web-app.md "Languages"): this language is read and typed, not heard.
  const hearingNotice = heard
    ? null
    : h('p', { class: 'hearing-notice', 'data-testid': 'hearing-notice', role: 'note' }, icon('alert'),
      `Speech in ${languageName(options.language)} cannot be recognized on this server. Type your messages below; you still read and hear your partner.`);
  const textInput = h('input', {
    type: 'text', class: 'compose-input', 'data-testid': 'text-input', maxlength: '1000', autocomplete: 'off',
    'aria-label': 'Type a message', placeholder: heard ? 'Or type a message' : `Type in ${languageName(options.language)}`,
  });
  const compose = h('form', { class: 'compose', 'aria-label': 'Type a message' }, textInput,
    h('button', { type: 'submit', class: 'button secondary small', 'data-testid': 'send-text' }, 'Send'));
  compose.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = textInput.value.trim();
    if (!text || !socket.isOpen) return;
    // A typed message (docs/conversations.md "Typed messages"): delivered like a spoken final.
    socket.send(JSON.stringify({ type: 'text', text }));
    textInput.value = '';
  });
  const inviteCard = host
    ? h('section', { class: 'card invite-card', 'data-testid': 'invite', 'aria-labelledby': 'invite-title' }, h('h2', { id: 'invite-title' }, 'Invite someone'), invitePanel(options.joinUrl, options.joinUrlWarning ?? null))
    : null;
  const inviteToggle = host
    ? h('button', { type: 'button', class: 'button secondary small invite-toggle', 'data-testid': 'invite-toggle', 'aria-expanded': 'true', onclick: () => setInviteOpen(inviteCard?.dataset.open !== 'true') }, icon('qr'), 'Invite')
    : null;
  const leave = h(
    'button',
    { type: 'button', class: 'button ghost small', 'data-testid': 'leave-conversation', 'aria-label': 'Leave the conversation', onclick: options.onLeave },
    icon('leave'),
    h('span', { class: 'button-label' }, 'Leave'),
  );

  root.append(
    h(
      'div',
      { class: `page page-room ${host ? 'is-host' : 'is-guest'}` },
      banner.element,
      h(
        'div',
        { class: 'room-layout' },
        h(
          'aside',
          { class: 'room-side' },
          h(
            'section',
            { class: 'card room-info', 'aria-label': 'Conversation' },
            h('div', { class: 'room-info-head' }, count, h('div', { class: 'room-info-actions' }, inviteToggle, leave)),
            h(
              'dl',
              { class: 'lang-list' },
              h('div', {}, h('dt', {}, 'You speak'), h('dd', { 'data-testid': 'my-language-name' }, languageName(options.language))),
              h('div', {}, h('dt', {}, 'Partner speaks'), partnerName),
            ),
          ),
          inviteCard,
        ),
        h(
          'section',
          { class: 'card chat-card', 'aria-labelledby': 'chat-title' },
          h('header', { class: 'card-head' }, h('h2', { id: 'chat-title' }, 'Conversation'), h('div', { class: 'card-head-tools' }, playback, connection)),
          hearingNotice,
          chat.element,
          h('footer', { class: `chat-bar${heard ? '' : ' typing-first'}` }, micButton.element, compose),
        ),
      ),
    ),
  );

  function setInviteOpen(open: boolean): void {
    if (!inviteCard || !inviteToggle) return;
    inviteCard.dataset.open = String(open);
    inviteToggle.setAttribute('aria-expanded', String(open));
  }

  function renderPresence(clientCount: number): void {
    count.dataset.count = String(clientCount);
    count.replaceChildren(
      h('span', { class: 'presence-dot', 'data-on': String(clientCount >= 2) }),
      clientCount >= 2 ? `${clientCount} people connected` : 'Only you so far',
    );
    const known = partnerLanguage ? languageName(partnerLanguage) : undefined;
    partnerName.textContent = known ?? (partnerPresent ? 'Joined' : host ? 'Not joined yet' : '—');
    partnerName.dataset.code = partnerLanguage ?? '';
    if (partnerPresent) {
      chat.setEmptyText('Tap the microphone and speak', `Your partner reads and hears you in ${known ?? 'their language'}.`);
    } else {
      chat.setEmptyText(
        host ? 'Waiting for the other person' : 'Waiting for your partner',
        host ? 'Ask them to scan the QR code. Messages appear here as you talk.' : 'They will be back in a moment. Messages appear here as you talk.',
      );
    }
  }

  function setPartnerPresent(present: boolean, clientCount: number): void {
    if (present !== partnerPresent && everConnected && !(present && joining)) chat.addNote(present ? 'Your partner joined' : 'Your partner left');
    partnerPresent = present;
    if (host) setInviteOpen(!present);
    renderPresence(clientCount);
  }

  function handleText(text: string): void {
    const message = parseConversationMessage(text);
    if (!message) return;
    switch (message.kind) {
      case 'error':
        lastServerError = message.message;
        return banner.show('server', serverErrorMessage(message.message));
      case 'partner_language':
        partnerLanguage = message.lang;
        return setPartnerPresent(true, Math.max(2, Number(count.dataset.count)));
      case 'presence':
        setPartnerPresent(message.clientCount >= 2, message.clientCount);
        // The first user_joined after connecting announces me (the server adds me, then tells everyone).
        if (message.joined) joining = false;
        return;
      case 'transcript':
        if (message.isInterim) {
          if (message.isMine) chat.setInterim(message.original);
          return;
        }
        banner.clear('server');
        chat.addFinal({
          isMine: message.isMine,
          utteranceId: message.utteranceId,
          text: message.translation || message.original,
          textLang: options.language,
          original: message.original,
          originalLang: message.isMine ? options.language : partnerLanguage,
          latencyMs: message.latencyMs,
        });
    }
  }

  function showSocketState(state: SocketState): void {
    connection.dataset.state = state.kind;
    if (state.kind === 'connecting') {
      connection.textContent = 'Connecting…';
    } else if (state.kind === 'open') {
      connection.textContent = 'Connected';
      lastServerError = undefined;
      banner.clear('connection');
      if (!everConnected) renderPresence(1);
      everConnected = true;
      joining = true;
      if (micState === 'idle') micButton.setState('idle');
    } else if (state.kind === 'reconnecting') {
      connection.textContent = 'Reconnecting…';
      chat.setInterim('');
      banner.show('connection', {
        tone: 'warning',
        title: state.attempt >= 3 ? 'Cannot reach the server' : 'Connection lost — reconnecting',
        detail: 'You stay in the conversation; Tolk reconnects by itself.',
        retryAtMs: state.retryAtMs,
        action: { label: 'Retry now', run: () => socket.retryNow() },
      });
    } else {
      connection.textContent = 'Disconnected';
      stopMicrophone();
      options.onClosed(state.code === CLOSE_UNSUPPORTED_LANGUAGE ? 'unsupported' : 'expired', lastServerError ?? (state.reason || undefined));
    }
  }

  function toggleMicrophone(): void {
    if (micState === 'live') stopMicrophone();
    else void startMicrophone();
  }

  async function startMicrophone(): Promise<void> {
    if (micState !== 'idle') return;
    micState = 'starting';
    micButton.setState('starting');
    try {
      await microphone.start(
        (frame) => {
          // Open while the partner's speech plays when the browser cancels its echo; else silence, and "wait".
          const mustWait = !echoCancelled && player.isAudible;
          socket.send(mustWait ? new ArrayBuffer(frame.pcm.byteLength) : frame.pcm);
          if (micState === 'live') micButton.setHint(mustWait ? 'Wait until the translation has played' : undefined);
          micButton.setLevel(frame.rms);
        },
        (error) => {
          stopMicrophone();
          banner.show('microphone', micErrorMessage(error));
        },
      );
    } catch (caught) {
      micState = 'idle';
      if (disposed) return;
      micButton.setState('idle');
      banner.show('microphone', micErrorMessage(caught instanceof MicError ? caught : new MicError('unknown', String(caught))));
      return;
    }
    if (disposed) return microphone.stop();
    echoCancelled = microphone.cancelsEcho;
    banner.clear('microphone');
    micState = 'live';
    micButton.setState('live');
  }

  function stopMicrophone(): void {
    microphone.stop();
    micState = 'idle';
    chat.setInterim('');
    if (!disposed) micButton.setState(everConnected ? 'idle' : 'disabled');
  }

  const socket = new ReconnectingSocket({
    path: () => `/api/v1/ws/${encodeURIComponent(options.conversationId)}?language=${encodeURIComponent(options.language)}&speech=true`,
    onText: handleText,
    onBinary: (data) => player.enqueue(data),
    onState: showSocketState,
    fatalCodes: [CLOSE_UNKNOWN_CONVERSATION, CLOSE_UNSUPPORTED_LANGUAGE],
  });
  renderPresence(1);
  setInviteOpen(true);
  socket.connect();

  return () => {
    disposed = true;
    microphone.stop();
    socket.close();
    player.stop();
    banner.dispose();
  };
}
