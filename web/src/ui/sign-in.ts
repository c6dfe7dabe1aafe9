/**
 * The sign-in card of a locked-down server (docs/security.md "Lock-down"): the visitor pastes an API
 * key; the server answers with an HttpOnly cookie and the page reloads with access.
 */
import { ApiError, signIn } from '../api/http';
import { h } from './dom';
import { icon } from './icons';

/**
 * Creates the card (`data-testid="sign-in"`, input `sign-in-key`, button `sign-in-submit`, error
 * `sign-in-error`). `onSignedIn` runs after the server accepted the key (the pages reload).
 */
export function signInCard(what: string, onSignedIn: () => void): HTMLElement {
  const input = h('input', { id: 'sign-in-key', name: 'sign-in-key', type: 'password', 'data-testid': 'sign-in-key', autocomplete: 'current-password', placeholder: 'ip_live_…', required: true });
  const error = h('p', { class: 'field-note sign-in-error', 'data-testid': 'sign-in-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'sign-in-submit' }, 'Sign in');
  const form = h('form', { class: 'sign-in-form', 'aria-label': 'Sign in' }, h('div', { class: 'field' }, h('label', { for: 'sign-in-key' }, 'Tolk API key'), input), error, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    signIn(input.value.trim()).then(onSignedIn, (caught: unknown) => {
      submit.disabled = false;
      error.textContent = caught instanceof ApiError ? caught.message : String(caught);
    });
  });
  return h(
    'section',
    { class: 'card sign-in-card', 'data-testid': 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('span', { class: 'notice-icon' }, icon('alert')),
    h('h2', { id: 'sign-in-title' }, 'Sign in to use this server'),
    h('p', { class: 'lede' }, `This Tolk server asks for an API key before ${what}. Ask its operator for one: they create it with tolk keys create.`),
    form,
  );
}
