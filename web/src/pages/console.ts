/**
 * The console at `/console` (docs/console.md): sign-in with an API key, the console's navigation,
 * and the states every page shares (a key the server refuses → sign-in with the reason; 403, 429 and
 * an unreachable server → the banner). The pages themselves are console-developer.ts and
 * console-glossary.ts; they reach the server only through the public REST API (web/src/api/platform.ts).
 * A chunk of its own (with its styles), loaded on the first visit to /console (see main.ts).
 */
import '../styles/console.css';
import '../styles/console-tables.css';
import '../styles/console-sessions.css';
import '../styles/console-ops.css';
import { listKeys, PlatformError } from '../api/platform';
import { explainFailure, keyHintOf, keyMode, notLoadedNote } from '../console/format';
import { clearKey, readKey, storeKey } from '../console/key-store';
import { navigate, type Cleanup, type ConsolePage } from '../router';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';
import { StatusBanner } from '../ui/status-banner';
import { mountDeveloper } from './console-developer';
import { mountGlossary } from './console-glossary';
import { mountSessions } from './console-sessions';
import { mountCallDetail } from './console-sessions-call';
import { mountSessionDetail } from './console-sessions-detail';
import { mountLive } from './console-live';
import { mountUsage } from './console-usage';
import { mountWebhooks } from './console-webhooks';

/** What a console page gets from the frame. */
export interface ConsoleContext {
  /** The signed-in key (for the Authorization header only). */
  key(): string;
  /** Replaces the signed-in key (after rotating it: the old secret is refused from now on). */
  replaceKey(newKey: string): void;
  /** The page's banner. */
  banner: StatusBanner;
  /**
   * Explains a failed call of `action` ("Rotating the key"): a refused key signs out with the
   * reason; anything else goes to the banner, with `retry` as its button when given.
   */
  fail(action: string, error: unknown, retry?: () => void): void;
  /** Signs out with `reason` shown on the sign-in card (or none: the user signed out). */
  signOut(reason?: string): void;
}

/** The console's pages, in navigation order. */
const PAGES: ReadonlyArray<{ page: ConsolePage; label: string; path: string }> = [
  { page: 'developer', label: 'Developer', path: '/console/developer' },
  { page: 'glossary', label: 'Glossary', path: '/console/glossary' },
  { page: 'sessions', label: 'Sessions', path: '/console/sessions' },
  { page: 'live', label: 'Live', path: '/console/live' },
  { page: 'usage', label: 'Usage and billing', path: '/console/usage' },
  { page: 'webhooks', label: 'Webhooks and engines', path: '/console/webhooks' },
];

/** The operations pages' mounts (console-live.ts, console-usage.ts, console-webhooks.ts). */
const OPS_MOUNTS: Partial<Record<ConsolePage, (root: HTMLElement, ctx: ConsoleContext) => Cleanup>> = { live: mountLive, usage: mountUsage, webhooks: mountWebhooks };

let signOutReason: string | undefined;

/** Mounts the console page `page` (or the sign-in card when no key is kept). */
export function mountConsole(root: HTMLElement, page: ConsolePage, sessionId?: string): Cleanup {
  const key = readKey();
  if (!key) return mountSignIn(root, page);
  const banner = new StatusBanner();
  const identity = h('code', { class: 'console-identity-key', 'data-testid': 'console-identity' }, keyHintOf(key));
  const body = h('div', { class: 'console-body' });
  const ctx = consoleContext(key, banner, identity, body);
  const tabs = PAGES.map(({ page: p, label, path }) =>
    h('a', { href: path, 'data-link': true, class: 'console-tab', 'data-testid': `console-nav-${p}`, 'aria-current': p === page || ((page === 'session' || page === 'call') && p === 'sessions') ? 'page' : null }, label));
  const signOut = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'console-sign-out', onclick: () => ctx.signOut() }, icon('leave'), 'Sign out');
  root.append(
    h('div', { class: 'page page-console' },
      h('div', { class: 'console-head' },
        h('h1', {}, 'Console'),
        h('div', { class: 'console-identity' }, h('span', { class: 'console-identity-label' }, `Signed in (${keyMode(key)} key)`), identity, signOut)),
      h('nav', { class: 'console-tabs', 'aria-label': 'Console pages' }, ...tabs),
      banner.element,
      body,
    ),
  );
  const ops = OPS_MOUNTS[page];
  const inner = ops ? ops(body, ctx)
    : page === 'glossary' ? mountGlossary(body, ctx)
    : page === 'sessions' ? mountSessions(body, ctx)
    : page === 'session' && sessionId ? mountSessionDetail(body, ctx, sessionId)
    : page === 'call' && sessionId ? mountCallDetail(body, ctx, sessionId)
    : mountDeveloper(body, ctx);
  return () => {
    inner();
    banner.dispose();
  };
}

/** The context the pages share: the key (kept in sessionStorage), the banner, failures and sign-out. */
function consoleContext(key: string, banner: StatusBanner, identity: HTMLElement, body: HTMLElement): ConsoleContext {
  let current = key;
  const ctx: ConsoleContext = {
    key: () => current,
    replaceKey(newKey) {
      current = newKey;
      storeKey(newKey);
      identity.textContent = keyHintOf(newKey);
    },
    banner,
    fail(action, error, retry) {
      if (error instanceof PlatformError && error.status === 401) {
        ctx.signOut(`The server refused the key you signed in with: ${error.message}. It may have been rotated or deleted; sign in with a current key.`);
      } else {
        showFailure(banner, action, error, retry);
        markNotLoaded(body, error instanceof PlatformError ? error.status : 500);
      }
    },
    signOut(reason) {
      clearKey();
      signOutReason = reason;
      navigate(location.pathname, { replace: true });
    },
  };
  return ctx;
}

/**
 * Turns every "Loading…" note still in `body` (elements marked `data-loading`) into what happened
 * instead, so no card keeps saying it is loading after a refusal or a lost server; a page's loader
 * replaces the note when Retry succeeds.
 */
function markNotLoaded(body: HTMLElement, status: number): void {
  for (const note of body.querySelectorAll('[data-loading]')) {
    note.textContent = notLoadedNote(status);
    note.removeAttribute('data-loading');
    note.setAttribute('data-not-loaded', '');
    note.closest('[aria-busy]')?.removeAttribute('aria-busy');
  }
}

/** Puts a failure that is not a refused key in the banner: 403 with the role rules, 429 counting down, unreachable with Retry. */
function showFailure(banner: StatusBanner, action: string, error: unknown, retry?: () => void): void {
  const status = error instanceof PlatformError ? error.status : 500;
  const retryAfterS = error instanceof PlatformError ? error.retryAfterS : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const { title, detail } = explainFailure(action, status, message, retryAfterS);
  banner.show(status === 0 ? 'server' : 'problem', {
    tone: status === 0 || status === 429 ? 'warning' : 'error', title, detail,
    action: retry ? { label: 'Retry', run: () => { banner.clear(); retry(); } } : undefined,
  });
  // The banner sits above the page: bring it into view from a row further down (a phone).
  banner.element.scrollIntoView({ block: 'nearest' });
}

/** The sign-in card: checks the key with `GET /api/api-keys`, keeps it in sessionStorage, then shows `page`. */
function mountSignIn(root: HTMLElement, page: ConsolePage): Cleanup {
  const reason = signOutReason;
  signOutReason = undefined;
  const input = h('input', {
    id: 'console-key', name: 'console-key', type: 'password', 'data-testid': 'console-key', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'ip_live_…', required: true, 'aria-describedby': 'console-key-note',
  });
  const error = h('p', { class: 'field-note sign-in-error', 'data-testid': 'console-sign-in-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'console-sign-in-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in-form', 'aria-label': 'Sign in to the console' },
    h('div', { class: 'field' }, h('label', { for: 'console-key' }, 'API key'), input,
      h('p', { id: 'console-key-note', class: 'field-note' }, 'Kept in this tab only, until you sign out or close it. Never put in the address bar.')),
    error,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    submit.disabled = true;
    error.textContent = '';
    listKeys(key).then(() => {
      storeKey(key);
      navigate(page === 'session' || page === 'call' ? location.pathname + location.search : PAGES.find((p) => p.page === page)?.path ?? '/console/developer', { replace: true });
    }, (caught: unknown) => {
      submit.disabled = false;
      error.textContent = signInRefusal(caught);
      input.focus();
    });
  });
  root.append(
    h(
      'div',
      { class: 'page page-console' },
      h(
        'section',
        { class: 'card sign-in-card', 'data-testid': 'console-sign-in', 'aria-labelledby': 'console-sign-in-title' },
        h('span', { class: 'notice-icon' }, icon('info')),
        h('h1', { id: 'console-sign-in-title' }, 'Sign in to the Tolk console'),
        h('p', { class: 'lede', 'data-testid': 'console-sign-in-lede' }, 'Manage this organization\'s API keys, glossary and sessions, and watch its streams, usage, webhooks and engines. Use an API key of the organization: the server prints the first owner key when it first starts (make start); tolk keys create makes more.'),
        reason ? h('p', { class: 'console-signed-out', 'data-testid': 'console-signed-out-reason', role: 'alert' }, reason) : null,
        form,
      ),
    ),
  );
  input.focus();
  return () => {};
}

function signInRefusal(caught: unknown): string {
  if (!(caught instanceof PlatformError)) return String(caught);
  if (caught.status === 401) return `${caught.message}. Check that you pasted the whole key and that it was not rotated or deleted.`;
  return `${explainFailure('Signing in', caught.status, caught.message, caught.retryAfterS).title}: ${caught.message}`;
}
