/**
 * The conversation's message list: chat bubbles (mine on the right, my partner's on the left) with
 * the text in my own language and the original beneath it, my own interim as a faded bubble, and
 * small notes when someone joins or leaves.
 */
import { clockTime, formatLatency, h } from './dom';
import { icon } from './icons';

/** One final message, already in the listener's language. */
export interface ChatEntry {
  isMine: boolean;
  utteranceId: string | undefined;
  /** The text in my language (the server's `translation`). */
  text: string;
  textLang: string;
  /** What was said, in the speaker's language. */
  original: string;
  originalLang: string | undefined;
  latencyMs: number | undefined;
}

/** Distance from the bottom, in px, within which new messages keep the list scrolled down. */
const STICK_TO_BOTTOM_PX = 120;

/** The scrolling message list. */
export class ChatView {
  readonly element: HTMLDivElement;
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLDivElement;
  private readonly emptyTitle: HTMLParagraphElement;
  private readonly emptyDetail: HTMLParagraphElement;
  private interim: HTMLLIElement | undefined;
  private readonly seen = new Set<string>();

  constructor() {
    this.list = h('ol', { class: 'chat-list', 'data-testid': 'chat-list', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.emptyTitle = h('p', { class: 'empty-title' });
    this.emptyDetail = h('p', { class: 'empty-detail' });
    this.empty = h('div', { class: 'empty-state chat-empty', 'data-testid': 'chat-empty' }, h('span', { class: 'empty-icon' }, icon('chat')), this.emptyTitle, this.emptyDetail);
    this.element = h('div', { class: 'chat-scroll' }, this.empty, this.list);
  }

  /** Sets the text shown while there are no messages yet. */
  setEmptyText(title: string, detail: string): void {
    this.emptyTitle.textContent = title;
    this.emptyDetail.textContent = detail;
  }

  /** Adds a final message; a repeated utterance id (after a reconnect) is ignored. */
  addFinal(entry: ChatEntry): void {
    if (entry.utteranceId) {
      if (this.seen.has(entry.utteranceId)) return;
      this.seen.add(entry.utteranceId);
    }
    if (entry.isMine) this.setInterim('');
    const showOriginal = entry.original !== '' && entry.original.trim() !== entry.text.trim();
    const meta = h(
      'p',
      { class: 'bubble-meta' },
      entry.latencyMs !== undefined ? h('span', { class: 'bubble-latency', 'data-testid': 'bubble-latency', title: 'End of speech to translation' }, formatLatency(entry.latencyMs)) : null,
      h('time', { datetime: new Date().toISOString() }, clockTime()),
    );
    const bubble = h(
      'li',
      { class: `bubble ${entry.isMine ? 'mine' : 'theirs'}`, 'data-testid': 'chat-bubble', 'data-mine': String(entry.isMine), 'data-utterance-id': entry.utteranceId },
      h('span', { class: 'visually-hidden' }, entry.isMine ? 'You said:' : 'Your partner said:'),
      h('p', { class: 'bubble-text', 'data-testid': 'bubble-text', lang: entry.textLang }, entry.text || entry.original),
      showOriginal ? h('p', { class: 'bubble-original', 'data-testid': 'bubble-original', lang: entry.originalLang }, entry.original) : null,
      meta,
    );
    this.insert(bubble, this.interim ?? null);
  }

  /** Shows (or with '' removes) the faded bubble of my own speech in progress. */
  setInterim(text: string): void {
    if (!text) {
      this.interim?.remove();
      this.interim = undefined;
      this.updateEmpty();
      return;
    }
    if (!this.interim) {
      this.interim = h('li', { class: 'bubble mine interim', 'data-testid': 'chat-interim', 'aria-hidden': 'true' }, h('p', { class: 'bubble-text' }));
      this.insert(this.interim, null);
    }
    const paragraph = this.interim.firstElementChild;
    if (paragraph) paragraph.textContent = text;
    this.scrollIfNear(true);
  }

  /** Adds a centred system note ("Your partner joined"). */
  addNote(text: string): void {
    this.insert(h('li', { class: 'chat-note', 'data-testid': 'chat-note' }, text), this.interim ?? null);
  }

  /** Number of final bubbles. */
  get count(): number {
    return this.list.querySelectorAll('[data-testid="chat-bubble"]').length;
  }

  private insert(item: HTMLLIElement, before: HTMLLIElement | null): void {
    const near = this.isNearBottom();
    this.list.insertBefore(item, before);
    this.updateEmpty();
    this.scrollIfNear(near);
  }

  private updateEmpty(): void {
    this.empty.hidden = this.list.childElementCount > 0;
  }

  private isNearBottom(): boolean {
    const el = this.element;
    return el.scrollHeight - el.scrollTop - el.clientHeight < STICK_TO_BOTTOM_PX;
  }

  private scrollIfNear(near: boolean): void {
    if (near) this.element.scrollTop = this.element.scrollHeight;
  }
}
