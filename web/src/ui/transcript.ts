/**
 * The live transcript: the interim line (replaced in place while the person speaks) and one card per
 * final utterance with its original, its translation and the measured latency, newest first.
 */
import { clockTime, formatLatency, h } from './dom';
import { icon } from './icons';

/** One final utterance, as shown on a card. */
export interface FinalEntry {
  utteranceId: string | undefined;
  original: string;
  translation: string;
  latencyMs: number | undefined;
  sourceCode: string;
  sourceName: string;
  targetCode: string;
  targetName: string;
}

/** The transcript panel. */
export class TranscriptView {
  readonly element: HTMLDivElement;
  private readonly interim: HTMLParagraphElement;
  private readonly interimTranslation: HTMLParagraphElement;
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLDivElement;
  private readonly seen = new Set<string>();

  constructor() {
    this.interim = h('p', { class: 'interim-text', 'data-testid': 'interim-text', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.interimTranslation = h('p', { class: 'interim-translation', 'data-testid': 'interim-translation', hidden: true });
    this.list = h('ol', { class: 'final-list', 'data-testid': 'final-list', 'aria-label': 'Translated utterances' });
    this.empty = h(
      'div',
      { class: 'empty-state', 'data-testid': 'transcript-empty' },
      h('span', { class: 'empty-icon' }, icon('chat')),
      h('p', { class: 'empty-title' }, 'Your translations will appear here'),
      h('p', { class: 'empty-detail' }, 'Each sentence you finish becomes a card with the original, the translation and how long it took.'),
    );
    this.element = h(
      'div',
      { class: 'transcript' },
      h('div', { class: 'interim-box', 'data-live': 'false' }, this.interim, this.interimTranslation),
      this.empty,
      this.list,
    );
    this.setListening(false);
  }

  /** Switches the interim line's placeholder between "press the button" and "listening". */
  setListening(listening: boolean): void {
    const box = this.interim.parentElement;
    if (box) box.dataset.live = String(listening);
    this.interim.dataset.placeholder = listening ? 'Listening… start speaking' : 'Press the microphone and speak';
  }

  /** Replaces the interim text (empty clears it). */
  setInterim(original: string, translation = ''): void {
    this.interim.textContent = original;
    this.interimTranslation.textContent = translation;
    this.interimTranslation.hidden = translation === '';
  }

  /**
   * Ends the interim line when its result will never come (the connection dropped mid-sentence):
   * the words heard so far become a card marked "Not translated — the connection was lost"
   * (`data-interrupted="true"`), and the interim line is cleared.
   * @returns whether there was an interim to keep.
   */
  interruptInterim(entry: Omit<FinalEntry, 'original' | 'translation' | 'latencyMs' | 'utteranceId'>): boolean {
    const original = this.interim.textContent ?? '';
    this.setInterim('');
    if (original.trim() === '') return false;
    const card = h(
      'li',
      { class: 'final-card interrupted', 'data-testid': 'final-card', 'data-interrupted': 'true' },
      h('div', { class: 'final-block' }, h('span', { class: 'final-lang' }, entry.sourceName), h('p', { class: 'final-original', 'data-testid': 'final-original', lang: entry.sourceCode }, original)),
      h('footer', { class: 'final-meta' }, h('span', { class: 'interrupted-note', 'data-testid': 'final-interrupted' }, icon('alert'), 'Not translated — the connection was lost'), h('time', { datetime: new Date().toISOString() }, clockTime())),
    );
    this.list.prepend(card);
    this.empty.hidden = true;
    return true;
  }

  /** Adds a final card on top; a repeated utterance id (after a reconnect) is ignored. */
  addFinal(entry: FinalEntry): void {
    if (entry.utteranceId) {
      if (this.seen.has(entry.utteranceId)) return;
      this.seen.add(entry.utteranceId);
    }
    const latency =
      entry.latencyMs !== undefined
        ? h('span', { class: 'latency', 'data-testid': 'final-latency', title: 'End of speech to translation, measured by the server' }, icon('bolt'), formatLatency(entry.latencyMs))
        : null;
    const card = h(
      'li',
      { class: 'final-card', 'data-testid': 'final-card', 'data-utterance-id': entry.utteranceId },
      h(
        'div',
        { class: 'final-block' },
        h('span', { class: 'final-lang' }, entry.sourceName),
        h('p', { class: 'final-original', 'data-testid': 'final-original', lang: entry.sourceCode }, entry.original),
      ),
      h(
        'div',
        { class: 'final-block translated' },
        h('span', { class: 'final-lang' }, entry.targetName),
        h('p', { class: 'final-translation', 'data-testid': 'final-translation', lang: entry.targetCode }, entry.translation || '—'),
      ),
      h('footer', { class: 'final-meta' }, latency, h('time', { datetime: new Date().toISOString() }, clockTime())),
    );
    this.list.prepend(card);
    this.empty.hidden = true;
  }

  /** Removes every card. */
  clear(): void {
    this.list.replaceChildren();
    this.seen.clear();
    this.empty.hidden = false;
    this.setInterim('');
  }

  /** Number of final cards shown. */
  get count(): number {
    return this.list.childElementCount;
  }
}
