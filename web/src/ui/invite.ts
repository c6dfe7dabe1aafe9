/**
 * The invitation: a QR code of the join URL for the other person's phone camera, the link itself,
 * and Copy (and, where the browser offers it, Share) buttons. The QR code is drawn locally by the
 * bundled `qrcode` library; nothing leaves the page.
 */
import QRCode from 'qrcode';
import { h } from './dom';
import { icon } from './icons';

/** Copies `text` to the clipboard, falling back to a hidden textarea where the Clipboard API is absent. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the legacy path.
  }
  const area = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  return copied;
}

/**
 * Builds the invitation panel for `joinUrl`; `warning` (the server's `join_url_warning`) is shown
 * above the code when a phone could not open the link, e.g. a loopback address.
 */
export function invitePanel(joinUrl: string, warning: string | null = null): HTMLDivElement {
  const qr = h('img', { class: 'qr-code', 'data-testid': 'qr-code', alt: 'QR code that opens this conversation on another phone', width: 240, height: 240 });
  QRCode.toDataURL(joinUrl, { errorCorrectionLevel: 'M', margin: 1, width: 480, color: { dark: '#111827', light: '#ffffff' } })
    .then((url) => (qr.src = url))
    .catch(() => qr.replaceWith(h('p', { class: 'qr-fallback' }, 'The QR code could not be drawn; share the link below.')));

  const copyLabel = h('span', {}, 'Copy');
  const copyButton = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'copy-link' }, icon('copy'), copyLabel);
  let resetTimer: ReturnType<typeof setTimeout> | undefined;
  copyButton.addEventListener('click', () => {
    void copyText(joinUrl).then((ok) => {
      copyLabel.textContent = ok ? 'Copied' : 'Copy failed';
      copyButton.dataset.copied = String(ok);
      clearTimeout(resetTimer);
      resetTimer = setTimeout(() => {
        copyLabel.textContent = 'Copy';
        delete copyButton.dataset.copied;
      }, 2000);
    });
  });
  const shareButton =
    typeof navigator.share === 'function'
      ? h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'share-link', onclick: () => void navigator.share({ title: 'Join my Tolk conversation', url: joinUrl }).catch(() => {}) }, icon('share'), 'Share')
      : null;

  return h(
    'div',
    { class: 'invite' },
    warning ? h('p', { class: 'invite-warning', role: 'note', 'data-testid': 'invite-warning' }, warning) : null,
    h('div', { class: 'qr-frame' }, qr),
    h('p', { class: 'invite-hint' }, 'Ask the other person to scan this code with their phone camera, or send them the link.'),
    h(
      'div',
      { class: 'link-row' },
      h('a', { class: 'join-link', 'data-testid': 'join-link', href: joinUrl, target: '_blank', rel: 'noopener noreferrer' }, joinUrl),
      h('div', { class: 'link-actions' }, copyButton, shareButton),
    ),
  );
}
