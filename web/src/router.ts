/**
 * Client-side routing over the History API. The server answers `/`, `/conversation`,
 * `/join/<id>`, `/room` and `/console/…` with index.html (src/api/web/routes.ts); this module decides which page to show.
 */

/** Unmounts a page: stops its microphone, sockets and timers. */
export type Cleanup = () => void;

/** A page and its parameters. */
export type Route =
  | { name: 'live' }
  /** Without an id: the start screen. With one: the initiator coming back to their conversation. */
  | { name: 'conversation'; conversationId: string | undefined; language: string | undefined }
  | { name: 'join'; conversationId: string }
  /** A LiveKit room with Tolk's interpreter (docs/rooms.md). */
  | { name: 'room' }
  /** The console (docs/console.md): `/console` and `/console/developer` are the Developer page. */
  | { name: 'console'; page: ConsolePage; sessionId?: string }
  | { name: 'not-found' };

/** A page of the console. */
export type ConsolePage = 'developer' | 'glossary' | 'sessions' | 'session' | 'call' | OpsConsolePage;

/** The operations pages of the console (docs/console.md "Live", "Usage and billing", "Webhooks and engines"). */
export type OpsConsolePage = 'live' | 'usage' | 'webhooks';

const CONSOLE_PAGES: Record<string, ConsolePage> = {
  '/console': 'developer', '/console/developer': 'developer', '/console/glossary': 'glossary',
  '/console/live': 'live', '/console/usage': 'usage', '/console/webhooks': 'webhooks',
};
// Sessions (docs/console.md "Sessions"): the list, and one session at /console/sessions/<id>.
CONSOLE_PAGES['/console/sessions'] = 'sessions';

/** `/console/sessions/<id>` → the session page's route (`?kind=call`: a call session's page), or undefined. */
function consoleSessionRoute(path: string, search: string): Route | undefined {
  const match = /^\/console\/sessions\/([^/]+)$/.exec(path);
  if (!match?.[1]) return undefined;
  try {
    const page = new URLSearchParams(search).get('kind') === 'call' ? 'call' : 'session';
    return { name: 'console', page, sessionId: decodeURIComponent(match[1]) };
  } catch {
    return { name: 'not-found' };
  }
}

/** Maps a URL path and query to a route. */
export function matchRoute(pathname: string, search: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'live' };
  if (path === '/room') return { name: 'room' };
  const consolePage = CONSOLE_PAGES[path];
  if (consolePage) return { name: 'console', page: consolePage };
  const consoleSession = consoleSessionRoute(path, search);
  if (consoleSession) return consoleSession;
  if (path === '/conversation') {
    const query = new URLSearchParams(search);
    return { name: 'conversation', conversationId: query.get('id') || undefined, language: query.get('lang') || undefined };
  }
  const join = /^\/join\/([^/]+)$/.exec(path);
  if (join?.[1]) {
    try {
      return { name: 'join', conversationId: decodeURIComponent(join[1]) };
    } catch {
      return { name: 'not-found' };
    }
  }
  return { name: 'not-found' };
}

/** The URL of the initiator's view of a conversation (reloadable). */
export function conversationPath(conversationId: string, language: string): string {
  return `/conversation?${new URLSearchParams({ id: conversationId, lang: language }).toString()}`;
}

type Listener = (route: Route) => void;
let listener: Listener | undefined;

function current(): Route {
  return matchRoute(location.pathname, location.search);
}

/** Goes to `path`, adding a history entry (or replacing the current one), and renders it. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listener?.(current());
}

/** Changes the address bar without rendering (the page already shows what the URL describes). */
export function setAddress(path: string): void {
  history.replaceState(null, '', path);
}

/**
 * Starts routing: renders the current URL, then every back/forward and every click on a same-origin
 * `<a data-link>`.
 */
export function startRouter(render: Listener): void {
  listener = render;
  window.addEventListener('popstate', () => render(current()));
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a[data-link]');
    if (!(link instanceof HTMLAnchorElement) || link.origin !== location.origin) return;
    event.preventDefault();
    if (link.pathname + link.search !== location.pathname + location.search) navigate(link.pathname + link.search);
  });
  render(current());
}
