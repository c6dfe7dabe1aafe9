/**
 * Form controls shared by the pages: labelled language and voice selects, and the big microphone
 * button with its level ring.
 */
import type { LanguageOption } from '../languages';
import { h } from './dom';
import { icon } from './icons';

/** A labelled `<select>` of languages. */
export interface LanguageField {
  element: HTMLDivElement;
  select: HTMLSelectElement;
  /** Fills the options (keeps `value` when it is in the list, else the first). */
  setLanguages(languages: readonly LanguageOption[], value: string): void;
  /** While there are no languages: shows `text` ("Loading…", "Unavailable") in the disabled select. */
  setPlaceholder(text: string): void;
}

/**
 * Creates a labelled language select.
 * @param options.testId - the select's `data-testid` (e.g. `source-language`).
 */
export function languageField(options: { id: string; label: string; testId: string; onChange: (code: string) => void }): LanguageField {
  const select = h('select', { id: options.id, name: options.id, 'data-testid': options.testId, disabled: true });
  select.append(h('option', { value: '' }, 'Loading…'));
  select.addEventListener('change', () => options.onChange(select.value));
  const element = h('div', { class: 'field' }, h('label', { for: options.id }, options.label), h('div', { class: 'select-wrap' }, select));
  return {
    element,
    select,
    setLanguages(languages, value) {
      // The note ("text only") follows the name; `data-note` lets tests and styles read it.
      select.replaceChildren(...languages.map((l) => h('option', { value: l.code, 'data-note': l.note ?? '' }, l.note ? `${l.name} (${l.note})` : l.name)));
      select.value = languages.some((l) => l.code === value) ? value : (languages[0]?.code ?? '');
      select.disabled = languages.length === 0;
    },
    setPlaceholder(text) {
      if (!select.disabled) return;
      select.replaceChildren(h('option', { value: '' }, text));
    },
  };
}

/** The synthetic voices of the protocol's `voice` field. */
export type Voice = 'female' | 'male';

/** Creates the labelled voice select (`data-testid="voice"`). */
export function voiceField(value: Voice, onChange: (voice: Voice) => void): { element: HTMLDivElement; select: HTMLSelectElement } {
  const select = h(
    'select',
    { id: 'voice', name: 'voice', 'data-testid': 'voice' },
    h('option', { value: 'female' }, 'Female'),
    h('option', { value: 'male' }, 'Male'),
  );
  select.value = value;
  select.addEventListener('change', () => onChange(select.value === 'male' ? 'male' : 'female'));
  return { element: h('div', { class: 'field' }, h('label', { for: 'voice' }, 'Voice'), h('div', { class: 'select-wrap' }, select)), select };
}

/**
 * The "Simultaneous" switch (`data-testid="simultaneous"`): speak stable parts of long sentences
 * while they go on (docs/web-app.md "Simultaneous mode").
 */
export function simultaneousField(checked: boolean, onChange: (on: boolean) => void): { element: HTMLDivElement; input: HTMLInputElement } {
  const input = h('input', { id: 'simultaneous', type: 'checkbox', name: 'simultaneous', 'data-testid': 'simultaneous', checked });
  input.addEventListener('change', () => onChange(input.checked));
  const label = h('label', { for: 'simultaneous' }, input, ' Simultaneous');
  const note = h('p', { class: 'field-note' }, 'Translate long sentences while they are spoken; interim translations are greyed until final.');
  return { element: h('div', { class: 'field field-switch' }, label, note), input };
}

/** What the microphone button shows. */
export type MicButtonState = 'idle' | 'starting' | 'live' | 'disabled';

/** The round start/stop button (`data-testid="mic-button"`, `data-state`, `aria-pressed`). */
export class MicButton {
  readonly element: HTMLDivElement;
  readonly button: HTMLButtonElement;
  private readonly hint: HTMLParagraphElement;

  constructor(
    onPress: () => void,
    private readonly hints: Record<MicButtonState, string>,
  ) {
    this.button = h('button', { type: 'button', class: 'mic-button', 'data-testid': 'mic-button', onclick: onPress });
    this.button.append(h('span', { class: 'mic-ring', 'aria-hidden': 'true' }), icon('mic', 'icon mic-icon'), icon('stop', 'icon stop-icon'));
    this.hint = h('p', { class: 'mic-hint', id: `mic-hint-${Math.random().toString(36).slice(2, 8)}` });
    this.button.setAttribute('aria-describedby', this.hint.id);
    this.element = h('div', { class: 'mic-area' }, this.button, this.hint);
    this.setState('disabled');
  }

  /** Updates label, pressed state and hint. */
  setState(state: MicButtonState): void {
    this.button.dataset.state = state;
    this.button.disabled = state === 'disabled' || state === 'starting';
    this.button.setAttribute('aria-pressed', String(state === 'live'));
    this.button.setAttribute('aria-label', state === 'live' ? 'Stop the microphone' : 'Start the microphone');
    this.hint.textContent = this.hints[state];
    if (state !== 'live') this.setLevel(0);
  }

  /** Replaces the hint while the button stays as it is (`undefined`: the state's own hint again). */
  setHint(text: string | undefined): void {
    this.hint.textContent = text ?? this.hints[(this.button.dataset.state ?? 'idle') as MicButtonState];
  }

  /** Shows the input level (RMS in [0, 1]) as a ring around the button. */
  setLevel(rms: number): void {
    const level = Math.min(1, Math.sqrt(rms) * 2.2);
    this.button.style.setProperty('--level', level.toFixed(3));
  }
}
