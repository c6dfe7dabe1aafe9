/**
 * Live translation (`/`): pick a language pair and a voice, press the microphone, and see interim
 * text, final cards with their translation and latency, and hear the translated speech. Talks to
 * `/api/v1/ws/single` (spec 003 Flow 1); changing a setting mid-stream sends a new config on the
 * same connection.
 */
import type { ApiError, LanguageCatalog } from '../api/http';
import { parseLiveMessage } from '../api/messages';
import { CAPTURE_SAMPLE_RATE_HZ, MicError, Microphone } from '../audio/microphone';
import { PcmPlayer } from '../audio/player';
import { isTextOnly, languageName, loadLanguages, sourceOptions, targetOptions, type LanguageOption } from '../languages';
import { backoffDelayMs, ReconnectingSocket, type SocketState } from '../net/reconnecting-socket';
import { loadPrefs, savePrefs } from '../prefs';
import type { Cleanup } from '../router';
import { languageField, MicButton, simultaneousField, voiceField, type Voice } from '../ui/controls';
import { h } from '../ui/dom';
import { micErrorMessage, serverErrorMessage } from '../ui/explanations';
import { signInCard } from '../ui/sign-in';
import { icon } from '../ui/icons';
import { StatusBanner } from '../ui/status-banner';
import { TranscriptView } from '../ui/transcript';

/** How long the connection stays open after the microphone stops, for the last results and speech. */
const IDLE_CLOSE_MS = 20_000;

/** The first of `candidates` among `options`, else `fallback` when offered, else the first option. */
function pick(options: readonly LanguageOption[], fallback: string, ...candidates: (string | undefined)[]): string {
  for (const code of [...candidates, fallback]) if (code && options.some((o) => o.code === code)) return code;
  return options[0]?.code ?? '';
}

/** Mounts the live translation page into `root`; returns its cleanup. */
export function mountLive(root: HTMLElement): Cleanup {
  const prefs = loadPrefs();
  const banner = new StatusBanner();
  const microphone = new Microphone();
  const transcript = new TranscriptView();
  let catalog: LanguageCatalog | undefined;
  let source = '';
  let target = '';
  let voice: Voice = prefs.voice ?? 'female';
  let simultaneous = prefs.simultaneous === true;
  /** Simultaneous mode: the translation spoken so far of the sentence in progress (greyed until final). */
  let spokenTranslation = '';
  let micState: 'idle' | 'starting' | 'live' = 'idle';
  /** Whether the browser cancels the echo of the translated speech (read when the microphone starts). */
  let echoCancelled = true;
  let socket: ReconnectingSocket | undefined;
  let disposed = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let catalogTimer: ReturnType<typeof setTimeout> | undefined;
  let catalogAttempt = 0;

  const sourceField = languageField({ id: 'source-language', label: 'From', testId: 'source-language', onChange: (code) => changeLanguages(code, target) });
  const targetField = languageField({ id: 'target-language', label: 'To', testId: 'target-language', onChange: (code) => changeLanguages(source, code) });
  const swap = h(
    'button',
    { type: 'button', class: 'icon-button swap-button', 'data-testid': 'swap-languages', 'aria-label': 'Swap languages', disabled: true, onclick: () => changeLanguages(target, source) },
    icon('swap'),
  );
  const voiceSelect = voiceField(voice, (value) => {
    voice = value;
    savePrefs({ voice });
    sendConfig();
  });
  const simultaneousSwitch = simultaneousField(simultaneous, (on) => {
    simultaneous = on;
    savePrefs({ simultaneous });
    sendConfig();
  });
  const textOnlyNote = h('p', { class: 'field-note', 'data-testid': 'text-only-note', role: 'note', hidden: true });
  const micButton = new MicButton(toggleMicrophone, {
    idle: 'Tap to start speaking',
    starting: 'Starting the microphone…',
    live: 'Listening — tap to stop',
    disabled: 'Waiting for the server…',
  });
  const connection = h('span', { class: 'pill', 'data-testid': 'connection-state', 'data-state': 'idle' }, 'Not connected');
  const playbackLabel = h('span', { class: 'pill-label' }, 'Speaking');
  const playback = h('span', { class: 'pill playing', 'data-testid': 'playback-indicator', 'data-wait': 'false', hidden: true }, icon('speaker'), playbackLabel);
  const player = new PcmPlayer(CAPTURE_SAMPLE_RATE_HZ, (playing) => (playback.hidden = !playing));
  const clearButton = h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'clear-transcript', onclick: () => transcript.clear() }, 'Clear');

  root.append(
    h(
      'div',
      { class: 'page page-live' },
      h(
        'header',
        { class: 'page-head' },
        h('h1', {}, 'Live translation'),
        h('p', { class: 'lede' }, 'Speak naturally — Tolk transcribes, translates and reads it back in real time.'),
      ),
      banner.element,
      h(
        'div',
        { class: 'live-layout' },
        h(
          'section',
          { class: 'card control-card', 'aria-label': 'Translation settings' },
          h('div', { class: 'lang-pair' }, sourceField.element, swap, targetField.element),
          voiceSelect.element,
          simultaneousSwitch.element,
          textOnlyNote,
          micButton.element,
        ),
        h(
          'section',
          { class: 'card transcript-card', 'aria-labelledby': 'transcript-title' },
          h('header', { class: 'card-head' }, h('h2', { id: 'transcript-title' }, 'Transcript'), h('div', { class: 'card-head-tools' }, playback, connection, clearButton)),
          transcript.element,
        ),
      ),
    ),
  );

  function changeLanguages(nextSource: string, nextTarget: string): void {
    if (!catalog) return;
    const sources = sourceOptions(catalog);
    source = pick(sources, catalog.defaultSource, nextSource, source);
    // Only the targets this source can be translated into (docs/web-app.md "Languages").
    const targets = targetOptions(catalog, source);
    target = pick(targets, catalog.defaultTarget, nextTarget, target, catalog.defaultTarget, targets.find((t) => t.code !== source)?.code);
    sourceField.setLanguages(sources, source);
    targetField.setLanguages(targets, target);
    const reverse = targetOptions(catalog, target);
    swap.disabled = !sources.some((l) => l.code === target) || !reverse.some((l) => l.code === source);
    swap.title = swap.disabled ? `Speech in ${languageName(target)} cannot be recognized on this server` : 'Swap languages';
    const textOnly = isTextOnly(catalog, source, target);
    voiceSelect.select.disabled = textOnly;
    textOnlyNote.hidden = !textOnly;
    textOnlyNote.textContent = textOnly ? `No voice for ${languageName(target)} on this server: the translation is shown as text, not spoken.` : '';
    savePrefs({ source, target });
    sendConfig();
  }

  function sendConfig(): void {
    if (!socket?.isOpen || !source || !target || !catalog) return;
    // A text-only target (no voice) asks for no speech, which the server then serves as text.
    const speech = !isTextOnly(catalog, source, target);
    socket.send(JSON.stringify({
      type: 'config', language: source, translate_language: target, voice, sample_rate: CAPTURE_SAMPLE_RATE_HZ, speech,
      ...(simultaneous ? { simultaneous: true } : {}),
    }));
  }

  async function loadCatalog(): Promise<void> {
    clearTimeout(catalogTimer);
    try {
      const loaded = await loadLanguages();
      if (disposed) return;
      if (loaded.signInRequired) {
        // Locked down (docs/security.md "Lock-down"): the key first; the page reloads signed in.
        banner.element.after(signInCard('you translate live', () => location.reload()));
        micButton.setHint('Sign in to use the microphone');
        sourceField.setPlaceholder('Sign in first');
        targetField.setPlaceholder('Sign in first');
        return;
      }
      catalog = loaded;
      changeLanguages(prefs.source ?? loaded.defaultSource, prefs.target ?? loaded.defaultTarget);
      banner.clear('languages');
      if (micState === 'idle') micButton.setState('idle');
    } catch (caught) {
      if (disposed) return;
      const error = caught as ApiError;
      const delayMs = backoffDelayMs(++catalogAttempt, 2000, 30_000);
      sourceField.setPlaceholder(error.unreachable ? 'Offline' : 'Unavailable');
      targetField.setPlaceholder(error.unreachable ? 'Offline' : 'Unavailable');
      banner.show('languages', {
        tone: 'error',
        title: error.unreachable ? 'Cannot reach the server' : 'Translation is unavailable right now',
        detail: error.unreachable ? 'Tolk is not answering. Check that the server is running and that you are online.' : error.message,
        retryAtMs: Date.now() + delayMs,
        action: { label: 'Retry now', run: () => void loadCatalog() },
      });
      catalogTimer = setTimeout(() => void loadCatalog(), delayMs);
    }
  }

  function toggleMicrophone(): void {
    if (micState === 'live') stopMicrophone();
    else void startMicrophone();
  }

  async function startMicrophone(): Promise<void> {
    if (!catalog || micState !== 'idle') return;
    micState = 'starting';
    micButton.setState('starting');
    try {
      await microphone.start(
        (frame) => {
          // The microphone stays open while translated speech plays: the browser cancels its echo.
          // Without echo cancellation it would hear it, so silence goes instead and the page says to wait.
          const mustWait = !echoCancelled && player.isAudible;
          socket?.send(mustWait ? new ArrayBuffer(frame.pcm.byteLength) : frame.pcm);
          showWait(mustWait);
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
    transcript.setListening(true);
    openSocket();
  }

  /** While the speaker must wait (no echo cancellation and speech playing): says so on the pill and the hint. */
  function showWait(mustWait: boolean): void {
    if (playback.dataset.wait === String(mustWait)) return;
    playback.dataset.wait = String(mustWait);
    playbackLabel.textContent = mustWait ? 'Speaking — wait' : 'Speaking';
    if (micState === 'live') micButton.setHint(mustWait ? 'Wait until the translation has played' : undefined);
  }

  function stopMicrophone(): void {
    showWait(false);
    microphone.stop();
    micState = 'idle';
    micButton.setState(catalog ? 'idle' : 'disabled');
    transcript.setListening(false);
    transcript.setInterim('');
    clearTimeout(idleTimer);
    idleTimer = setTimeout(closeSocket, IDLE_CLOSE_MS);
  }

  function openSocket(): void {
    clearTimeout(idleTimer);
    if (socket) return sendConfig();
    socket = new ReconnectingSocket({
      path: () => '/api/v1/ws/single',
      onOpen: sendConfig,
      onText: handleText,
      onBinary: (data) => player.enqueue(data),
      onState: showSocketState,
    });
    socket.connect();
  }

  function closeSocket(): void {
    socket?.close();
    socket = undefined;
    banner.clear('connection');
    setConnection('idle', 'Not connected');
  }

  function handleText(text: string): void {
    const message = parseLiveMessage(text);
    if (!message) return;
    if (message.kind === 'error') return banner.show('server', serverErrorMessage(message.message));
    if (!message.isFinal) {
      // Simultaneous mode: an interim with a translation is what was spoken so far; it stays until the final.
      if (message.translation) spokenTranslation = message.translation;
      return transcript.setInterim(message.original, spokenTranslation);
    }
    spokenTranslation = '';
    transcript.setInterim('');
    if (!message.original && !message.translation) return;
    banner.clear('server');
    transcript.addFinal({
      utteranceId: message.utteranceId,
      original: message.original,
      translation: message.translation,
      latencyMs: message.latencyMs,
      sourceCode: source,
      sourceName: languageName(source),
      targetCode: target,
      targetName: languageName(target),
    });
  }

  function setConnection(state: string, label: string): void {
    connection.dataset.state = state;
    connection.textContent = label;
  }

  function showSocketState(state: SocketState): void {
    if (state.kind === 'connecting') return setConnection('connecting', 'Connecting…');
    if (state.kind === 'open') {
      banner.clear('connection');
      return setConnection('open', 'Connected');
    }
    // The sentence in progress will get no final from the lost connection: keep it, marked.
    transcript.interruptInterim({ sourceCode: source, sourceName: languageName(source), targetCode: target, targetName: languageName(target) });
    if (state.kind === 'reconnecting') {
      setConnection('reconnecting', 'Reconnecting…');
      return banner.show('connection', {
        tone: 'warning',
        title: state.attempt >= 3 ? 'Cannot reach the server' : 'Connection lost — reconnecting',
        detail: 'Tolk reconnects by itself; speech during the outage is not translated.',
        retryAtMs: state.retryAtMs,
        action: { label: 'Retry now', run: () => socket?.retryNow() },
      });
    }
    setConnection('closed', 'Disconnected');
  }

  void loadCatalog();

  return () => {
    disposed = true;
    clearTimeout(idleTimer);
    clearTimeout(catalogTimer);
    microphone.stop();
    socket?.close();
    player.stop();
    banner.dispose();
  };
}
