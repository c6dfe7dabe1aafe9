/**
 * A modal confirmation (`<dialog>`, so focus stays inside it and Escape cancels): "Delete key
 * ci-deploy?" with a cancel and a confirm button (`confirm-dialog`, `confirm-cancel`, `confirm-ok`).
 */
import { h } from './dom';

/** Asks `question`; resolves true when the user confirms, false on cancel or Escape. Focus returns to where it was. */
export function confirmAction(question: string, detail: string, confirmLabel: string): Promise<boolean> {
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const cancel = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'confirm-cancel' }, 'Cancel');
  const ok = h('button', { type: 'button', class: 'button danger', 'data-testid': 'confirm-ok' }, confirmLabel);
  const dialog = h(
    'dialog',
    { class: 'card confirm-dialog', 'data-testid': 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-detail' },
    h('h2', { id: 'confirm-title' }, question),
    h('p', { id: 'confirm-detail', class: 'lede' }, detail),
    h('div', { class: 'confirm-actions' }, cancel, ok),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    const finish = (confirmed: boolean) => {
      dialog.close();
      dialog.remove();
      previous?.focus();
      resolve(confirmed);
    };
    cancel.addEventListener('click', () => finish(false));
    ok.addEventListener('click', () => finish(true));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}
