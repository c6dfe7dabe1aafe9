/**
 * The page's status banner: one live region (`data-testid="status-banner"`) for connection, microphone
 * and server problems. Each message has an owner so that, for example, a reconnect success clears a
 * connection warning without hiding a microphone explanation.
 */
import { h, replaceChildren } from './dom';
import { icon, type IconName } from './icons';

/** How serious a banner message is; also its `data-tone` attribute. */
export type BannerTone = 'info' | 'warning' | 'error' | 'success';

/** One message for the banner. */
export interface BannerMessage {
  tone: BannerTone;
  title: string;
  detail?: string;
  /** A button in the banner, e.g. "Retry now". */
  action?: { label: string; run: () => void };
  /** When set (a `Date.now()` timestamp), "Retrying in N s…" counts down to it. */
  retryAtMs?: number;
}

const TONE_ICONS: Record<BannerTone, IconName> = { info: 'info', warning: 'offline', error: 'alert', success: 'check' };

/** The banner component; mount `element` once per page. */
export class StatusBanner {
  readonly element: HTMLDivElement;
  private owner: string | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    this.element = h('div', { class: 'status-banner', 'data-testid': 'status-banner', role: 'status', 'aria-live': 'polite', hidden: true });
  }

  /** Shows `message` on behalf of `owner` (replacing whatever was shown). */
  show(owner: string, message: BannerMessage): void {
    this.owner = owner;
    clearInterval(this.ticker);
    const countdown = h('span', { class: 'banner-countdown' });
    const text = h(
      'div',
      { class: 'banner-text' },
      h('strong', { class: 'banner-title' }, message.title),
      message.detail ? h('span', { class: 'banner-detail' }, message.detail) : null,
      message.retryAtMs !== undefined ? countdown : null,
    );
    const action = message.action
      ? h('button', { type: 'button', class: 'button secondary small banner-action', onclick: message.action.run }, message.action.label)
      : null;
    replaceChildren(this.element, h('span', { class: 'banner-icon' }, icon(TONE_ICONS[message.tone])), text, action);
    this.element.dataset.tone = message.tone;
    this.element.dataset.owner = owner;
    this.element.hidden = false;
    if (message.retryAtMs !== undefined) {
      const retryAtMs = message.retryAtMs;
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((retryAtMs - Date.now()) / 1000));
        countdown.textContent = seconds > 0 ? `Retrying in ${seconds} s…` : 'Retrying…';
      };
      tick();
      this.ticker = setInterval(tick, 500);
    }
  }

  /** Hides the banner if `owner` (or anyone, when omitted) put up the current message. */
  clear(owner?: string): void {
    if (owner !== undefined && owner !== this.owner) return;
    clearInterval(this.ticker);
    this.owner = undefined;
    this.element.hidden = true;
    this.element.replaceChildren();
    delete this.element.dataset.tone;
    delete this.element.dataset.owner;
  }

  /** Who put up the current message, if any. */
  get currentOwner(): string | undefined {
    return this.owner;
  }

  /** Stops the countdown timer (call when the page unmounts). */
  dispose(): void {
    clearInterval(this.ticker);
  }
}
