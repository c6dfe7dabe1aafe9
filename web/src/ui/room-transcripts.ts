/**
 * The room page's two transcripts side by side: what the speaker said, with the interim line in a
 * lighter style replaced in place and finals appended, and the interpreter's translations appended
 * as they arrive. On a phone (at most {@link PAIRED_MAX_WIDTH_PX} wide) each translation moves under
 * the original it translates (the n-th translation is the n-th final original's: the interpreter
 * translates each final once, in order) and the second column is hidden. Text is always set as text.
 */
import type { RoomTranscript } from '../api/room-messages';
import { clockTime, h } from './dom';

/** Widest viewport, in CSS px, where originals and translations are shown in pairs (the stacked layout). */
export const PAIRED_MAX_WIDTH_PX = 720;

/** One column: its section, its list of finals and the language label in its header. */
interface Column {
  element: HTMLElement;
  list: HTMLOListElement;
  language: HTMLSpanElement;
}

function column(id: string, title: string, emptyText: string, testId: string): Column {
  const language = h('span', { class: 'final-lang', 'data-testid': `${testId}-language` });
  const list = h('ol', { class: 'room-lines', 'data-testid': `${testId}-list`, 'data-empty': emptyText, role: 'log', 'aria-live': 'polite', 'aria-labelledby': id });
  const element = h(
    'section',
    { class: 'card room-column', 'aria-labelledby': id },
    h('header', { class: 'card-head' }, h('h2', { id }, title), language),
    list,
  );
  return { element, list, language };
}

/** Both transcript columns. */
export class RoomTranscriptsView {
  readonly element: HTMLDivElement;
  private readonly original = column('room-original-title', 'Original', 'What you say appears here.', 'original');
  private readonly translated = column('room-translated-title', 'Translation', 'The interpreter’s translation appears here.', 'translated');
  private readonly interim: HTMLParagraphElement;
  private readonly originals: HTMLLIElement[] = [];
  private readonly translations: HTMLLIElement[] = [];
  private readonly narrow = typeof matchMedia === 'function' ? matchMedia(`(max-width: ${PAIRED_MAX_WIDTH_PX}px)`) : undefined;
  private readonly onResize = (): void => this.arrange();

  constructor(private readonly targetLanguage: string | undefined) {
    this.interim = h('p', { class: 'room-interim', 'data-testid': 'original-interim', 'aria-hidden': 'true', hidden: true });
    this.original.element.append(this.interim);
    this.element = h('div', { class: 'room-columns' }, this.original.element, this.translated.element);
    if (targetLanguage) this.translated.language.textContent = targetLanguage;
    this.narrow?.addEventListener('change', this.onResize);
    this.arrange();
  }


  /** Shows one message: an interim replaces the interim line; a final is appended to its column. */
  add(message: RoomTranscript): void {
    if (message.kind === 'original') {
      if (message.languageDetected) this.original.language.textContent = message.languageDetected;
      if (!message.isFinal) return this.setInterim(message.text);
      this.setInterim('');
    }
    if (!message.text.trim()) return;
    const column = message.kind === 'original' ? this.original : this.translated;
    const lang = message.kind === 'original' ? message.languageDetected : this.targetLanguage;
    const time = message.timestampMs !== undefined ? new Date(message.timestampMs) : new Date();
    const line = h(
      'li',
      { class: `room-line ${message.kind}`, 'data-testid': `${message.kind}-final` },
      message.speakerName ? h('span', { class: 'room-speaker' }, message.speakerName) : null,
      h('p', { class: 'room-text', lang }, message.text),
      h('time', { datetime: time.toISOString() }, clockTime(time)),
    );
    (message.kind === 'original' ? this.originals : this.translations).push(line);
    column.list.append(line);
    column.element.dataset.count = String((message.kind === 'original' ? this.originals : this.translations).length);
    this.arrange();
    line.scrollIntoView?.({ block: 'nearest' });
  }

  /** Places each translation under its original (phone) or in its own column (wider). */
  private arrange(): void {
    const paired = this.narrow?.matches === true;
    this.element.dataset.paired = String(paired);
    const title = this.original.element.querySelector('h2');
    if (title) title.textContent = paired ? 'Original and translation' : 'Original';
    if (!paired) {
      this.translated.list.append(...this.translations);
      return;
    }
    this.translations.forEach((line, i) => {
      const original = this.originals[i];
      if (original) original.after(line);
      else this.original.list.append(line);
    });
  }

  /** Removes every line. */
  clear(): void {
    for (const c of [this.original, this.translated]) {
      c.list.replaceChildren();
      delete c.element.dataset.count;
    }
    this.originals.length = 0;
    this.translations.length = 0;
    this.setInterim('');
  }

  private setInterim(text: string): void {
    this.interim.textContent = text;
    this.interim.hidden = text === '';
  }
}
