/**
 * The LiveKit room page (`/room`): join a spec-001 (or spec-000) session room with `livekit-client`,
 * publish the microphone, see the original transcript (interims replaced in place, finals appended)
 * and the interpreter's translations as they arrive, and hear the interpreter's `translation` track.
 * See docs/rooms.md for the room protocol.
 */
import { InterpreterRoom, type InterpreterRoomEvents, type RoomState } from '../net/interpreter-room';
import type { Cleanup } from '../router';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';
import { RoomTranscriptsView } from '../ui/room-transcripts';
import { StatusBanner } from '../ui/status-banner';
import { roomConnectForm, type RoomChoice } from './room-connect';
import { takeHandedRoom } from '../console/sessions-room';

const STATE_LABELS: Record<RoomState, string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

/** Mounts the room page into `root`; returns its cleanup. */
export function mountRoomPage(root: HTMLElement): Cleanup {
  const banner = new StatusBanner();
  const body = h('div', { class: 'room-body' });
  let room: InterpreterRoom | undefined;
  let disposeForm: (() => void) | undefined;

  root.append(
    h(
      'div',
      { class: 'page page-room' },
      h(
        'header',
        { class: 'page-head' },
        h('h1', {}, 'Interpreter room'),
        h('p', { class: 'lede' }, 'Join a LiveKit room with Tolk’s interpreter: speak, read both transcripts and hear the translation.'),
      ),
      banner.element,
      body,
    ),
  );

  function showForm(): void {
    disposeForm?.();
    const form = roomConnectForm(banner, join);
    disposeForm = form.dispose;
    body.replaceChildren(form.element);
  }

  async function join(choice: RoomChoice): Promise<void> {
    const view = roomView(choice, banner, () => void leave());
    const joining = new InterpreterRoom(view.events);
    room = joining;
    view.bind(joining);
    try {
      await joining.join(choice.access);
    } catch (error) {
      if (room === joining) room = undefined;
      throw error;
    }
    disposeForm?.();
    disposeForm = undefined;
    banner.clear('join');
    banner.clear('languages');
    body.replaceChildren(view.element);
    view.focus();
  }

  async function leave(): Promise<void> {
    const leaving = room;
    room = undefined;
    await leaving?.leave();
    banner.clear('room');
    showForm();
  }

  showForm();
  // A session the console just started (docs/console.md "Sessions"): its room's url and token, ready to join.
  const handed = takeHandedRoom();
  if (handed) prefillJoin(body, handed.url, handed.token);
  return () => {
    disposeForm?.();
    void room?.leave();
    room = undefined;
    banner.dispose();
  };
}

/** Fills the "Join with a token" form with `url` and `token` and focuses its Join button. */
function prefillJoin(body: HTMLElement, url: string, token: string): void {
  const urlInput = body.querySelector<HTMLInputElement>('#room-url');
  const tokenInput = body.querySelector<HTMLInputElement>('#room-token');
  if (!urlInput || !tokenInput) return;
  urlInput.value = url;
  tokenInput.value = token;
  body.querySelector<HTMLButtonElement>('[data-testid="join-room"]')?.focus();
}

/** The room view's element, the events it shows, and the room its buttons act on. */
interface RoomView {
  element: HTMLElement;
  events: InterpreterRoomEvents;
  bind(room: InterpreterRoom): void;
  focus(): void;
}

/** The joined room: controls, state, the translation's audio element and the transcripts. */
/** The Mute/Unmute button of the room's microphone. */
function micToggle(room: () => InterpreterRoom | undefined): HTMLButtonElement {
  let micOn = true;
  const label = h('span', { class: 'button-label' }, 'Mute');
  const button: HTMLButtonElement = h('button', {
    type: 'button', class: 'button secondary small', 'data-testid': 'room-mic', 'data-state': 'on', 'aria-label': 'Mute the microphone',
    onclick: () => {
      micOn = !micOn;
      button.dataset.state = micOn ? 'on' : 'muted';
      label.textContent = micOn ? 'Mute' : 'Unmute';
      button.setAttribute('aria-label', micOn ? 'Mute the microphone' : 'Unmute the microphone');
      void room()?.setMicrophone(micOn);
    },
  }, icon('mic'), label);
  return button;
}

function roomView(choice: RoomChoice, banner: StatusBanner, onLeave: () => void): RoomView {
  const transcripts = new RoomTranscriptsView(choice.targetLanguage);
  const connection = h('span', { class: 'pill', 'data-testid': 'connection-state', 'data-state': 'connecting' }, STATE_LABELS.connecting);
  const interpreter = h('span', { class: 'pill', 'data-testid': 'interpreter-state', 'data-state': 'connecting' }, 'Waiting for the interpreter');
  const speaking = h('span', { class: 'pill playing', 'data-testid': 'playback-indicator', hidden: true }, icon('speaker'), 'Speaking');
  const audioHost = h('div', { class: 'room-audio', 'data-testid': 'audio-host' });
  let room: InterpreterRoom | undefined;
  const micButton = micToggle(() => room);
  const playButton = h(
    'button',
    { type: 'button', class: 'button primary small', 'data-testid': 'start-audio', hidden: true, onclick: () => void room?.startAudio() },
    icon('speaker'),
    'Play the translation',
  );
  const leave = h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'leave-room', 'aria-label': 'Leave the room', onclick: onLeave }, icon('leave'), h('span', { class: 'button-label' }, 'Leave'));
  const title = h('h2', { class: 'room-name', tabindex: '-1', 'data-testid': 'room-name' }, choice.access.roomName ?? 'Room');

  const element = h(
    'div',
    { class: 'room-view', 'data-testid': 'room-view' },
    h(
      'section',
      { class: 'card room-bar', 'aria-label': 'Room' },
      h('div', { class: 'room-bar-info' }, title, h('div', { class: 'card-head-tools' }, connection, interpreter, speaking)),
      h('div', { class: 'room-bar-actions' }, playButton, micButton, leave),
      audioHost,
    ),
    transcripts.element,
  );

  /** The interpreter pill: here (`open`), not yet (`connecting`), or out of reach with the room (`unknown`). */
  function showInterpreter(state: 'open' | 'connecting' | 'unknown'): void {
    interpreter.dataset.state = state;
    interpreter.textContent = state === 'open' ? 'Interpreter here' : state === 'connecting' ? 'Waiting for the interpreter' : 'Interpreter out of reach';
  }

  const events: InterpreterRoomEvents = {
    onState(state) {
      connection.dataset.state = state;
      connection.textContent = STATE_LABELS[state];
      // Without a connection to LiveKit, nobody can tell whether the interpreter is still there.
      if (state !== 'open') showInterpreter('unknown');
      if (state === 'reconnecting') banner.show('room', { tone: 'warning', title: 'Connection lost — reconnecting', detail: 'LiveKit reconnects by itself.' });
      else if (state === 'open') banner.clear('room');
    },
    onTranscript: (message) => transcripts.add(message),
    onTranslationAudio(audio) {
      audioHost.replaceChildren();
      if (audio) audioHost.append(audio);
    },
    onPlaybackBlocked: (blocked) => (playButton.hidden = !blocked),
    onInterpreterSpeaking: (on) => (speaking.hidden = !on),
    onInterpreterPresent: (present) => showInterpreter(present ? 'open' : 'connecting'),
    onDisconnected(reason) {
      micButton.disabled = true;
      showInterpreter('unknown');
      banner.show('room', { tone: 'error', title: 'You left the room', detail: reason, action: { label: 'Back', run: onLeave } });
    },
  };
  return {
    element,
    events,
    bind: (joined) => (room = joined),
    focus: () => title.focus(),
  };
}
