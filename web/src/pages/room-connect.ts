/**
 * The room page's start form: create a spec-001 session with a Tolk API key and a language pair, or
 * paste the `url` and `token` of a session created elsewhere. The key stays in this form's memory:
 * it is sent once to `POST /api/beta1/session` and never stored.
 */
import type { ApiError } from '../api/http';
import { createRoomSession, type RoomAccess, type VoiceType } from '../api/room-session';
import { loadLanguages, pickLanguage, sourceOptions, targetOptions } from '../languages';
import { loadPrefs, savePrefs } from '../prefs';
import { languageField, simultaneousField, type LanguageField } from '../ui/controls';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';
import type { StatusBanner } from '../ui/status-banner';

/** What the form hands to the room: how to join, and the target language when the page chose it. */
export interface RoomChoice {
  access: RoomAccess;
  targetLanguage: string | undefined;
}

/** A labelled text input. */
function textField(id: string, label: string, props: Record<string, string | boolean>): { element: HTMLDivElement; input: HTMLInputElement } {
  const input = h('input', { id, name: id, 'data-testid': id, autocomplete: 'off', spellcheck: 'false', required: true, ...props });
  return { element: h('div', { class: 'field' }, h('label', { for: id }, label), input), input };
}

/**
 * Fills the two language selects from the catalog (the visitor's last choice first).
 * @returns whether the languages loaded; when not, the banner says that joining with a token still works.
 */
async function fillLanguages(source: LanguageField, target: LanguageField, banner: StatusBanner, disposed: () => boolean): Promise<boolean> {
  const prefs = loadPrefs();
  try {
    const catalog = await loadLanguages();
    if (disposed()) return false;
    // The interpreter speaks in the room: only sources it can hear, and targets with a voice.
    const fillTargets = (): void => {
      const targets = targetOptions(catalog, source.select.value).filter((t) => !t.note);
      const wanted = targets.some((t) => t.code === target.select.value) ? target.select.value : pickLanguage(catalog, catalog.defaultTarget, prefs.target);
      target.setLanguages(targets, wanted);
    };
    source.setLanguages(sourceOptions(catalog), pickLanguage(catalog, catalog.defaultSource, prefs.source));
    fillTargets();
    source.select.addEventListener('change', fillTargets);
    return true;
  } catch (caught) {
    if (disposed()) return false;
    source.setPlaceholder('Unavailable');
    target.setPlaceholder('Unavailable');
    banner.show('languages', { tone: 'warning', title: 'The languages could not be loaded', detail: `${(caught as ApiError).message} You can still join with a token.` });
    return false;
  }
}

/**
 * Renders the two forms; `onJoin` gets the access to join (from the click that submitted, so the
 * room may start audio playback).
 * @returns the form's element and a dispose function.
 */
export function roomConnectForm(banner: StatusBanner, onJoin: (choice: RoomChoice) => Promise<void>): { element: HTMLElement; dispose(): void } {
  let disposed = false;
  const key = textField('api-key', 'Tolk API key', { type: 'password', placeholder: 'ip_live_…' });
  const sourceField = languageField({ id: 'room-source-language', label: 'From', testId: 'room-source-language', onChange: () => {} });
  const targetField = languageField({ id: 'room-target-language', label: 'To', testId: 'room-target-language', onChange: () => {} });
  const voice = h(
    'select',
    { id: 'room-voice', name: 'room-voice', 'data-testid': 'room-voice' },
    h('option', { value: 'clone' }, 'Like the speaker (clone)'),
    h('option', { value: 'female' }, 'Female'),
    h('option', { value: 'male' }, 'Male'),
  );
  const simultaneous = simultaneousField(loadPrefs().simultaneous === true, (on) => savePrefs({ simultaneous: on }));
  const createButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'create-room', disabled: true }, icon('globe'), 'Create a session and join');
  const url = textField('room-url', 'LiveKit URL', { type: 'url', placeholder: 'wss://…', inputmode: 'url' });
  const token = textField('room-token', 'Token', { type: 'password', placeholder: 'eyJ…' });
  const joinButton = h('button', { type: 'submit', class: 'button secondary', 'data-testid': 'join-room' }, icon('leave'), 'Join');

  async function submit(event: Event, resolve: () => Promise<RoomChoice>): Promise<void> {
    event.preventDefault();
    createButton.disabled = joinButton.disabled = true;
    try {
      await onJoin(await resolve());
    } catch (caught) {
      if (disposed) return;
      const error = caught as ApiError;
      banner.show('join', { tone: 'error', title: 'Could not join the room', detail: error.message || String(caught) });
    } finally {
      if (!disposed) createButton.disabled = joinButton.disabled = false;
    }
  }

  const createForm = h(
    'form',
    {
      class: 'card room-form',
      'aria-labelledby': 'room-create-title',
      onsubmit: (event) =>
        void submit(event, async () => {
          const targetLanguage = targetField.select.value;
          const request = { sourceLanguage: sourceField.select.value, targetLanguage, voiceType: voice.value as VoiceType, simultaneous: simultaneous.input.checked };
          return { access: await createRoomSession(key.input.value.trim(), request), targetLanguage };
        }),
    },
    h('h2', { id: 'room-create-title' }, 'Create a session'),
    h('p', { class: 'form-note' }, 'Tolk creates a LiveKit room and puts its interpreter in it. The key is used once and not saved.'),
    key.element,
    h('div', { class: 'lang-pair two' }, sourceField.element, targetField.element),
    h('div', { class: 'field' }, h('label', { for: 'room-voice' }, 'Interpreter voice'), h('div', { class: 'select-wrap' }, voice)),
    simultaneous.element,
    createButton,
  );
  const joinForm = h(
    'form',
    {
      class: 'card room-form',
      'aria-labelledby': 'room-join-title',
      onsubmit: (event) => void submit(event, () => Promise.resolve({ access: { url: url.input.value.trim(), token: token.input.value.trim(), roomName: undefined }, targetLanguage: undefined })),
    },
    h('h2', { id: 'room-join-title' }, 'Join with a token'),
    h('p', { class: 'form-note' }, 'Paste the url and token of a session created with POST /api/beta1/session (or a platform session’s liveKitUrl and roomToken).'),
    url.element,
    token.element,
    joinButton,
  );

  void fillLanguages(sourceField, targetField, banner, () => disposed).then((loaded) => (createButton.disabled = !loaded));

  return {
    element: h('div', { class: 'room-forms' }, createForm, joinForm),
    dispose: () => {
      disposed = true;
    },
  };
}
