/**
 * The app frame: header with the brand and the four sections (Live, Conversation, Room, Console), and the main area the pages render into.
 */
import type { Route } from './router';
import { h } from './ui/dom';
import { icon, logoMark } from './ui/icons';

/** The mounted frame. */
export interface Shell {
  main: HTMLElement;
  /** Marks the navigation item of `route` as current. */
  setRoute(route: Route): void;
}

/** Renders the frame into `root`. */
export function mountShell(root: HTMLElement): Shell {
  const live = h('a', { href: '/', 'data-link': true, class: 'nav-link', 'data-testid': 'nav-live' }, icon('globe'), h('span', {}, 'Live'));
  const conversation = h(
    'a',
    { href: '/conversation', 'data-link': true, class: 'nav-link', 'data-testid': 'nav-conversation' },
    icon('chat'),
    h('span', {}, 'Conversation'),
  );
  const room = h('a', { href: '/room', 'data-link': true, class: 'nav-link', 'data-testid': 'nav-room' }, icon('users'), h('span', {}, 'Room'));
  const consoleLink = h('a', { href: '/console', 'data-link': true, class: 'nav-link', 'data-testid': 'nav-console' }, icon('key'), h('span', {}, 'Console'));
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  root.replaceChildren(
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h(
      'header',
      { class: 'topbar' },
      h(
        'div',
        { class: 'topbar-inner' },
        h('a', { href: '/', 'data-link': true, class: 'brand', 'aria-label': 'Tolk home' }, logoMark(), h('span', { class: 'brand-name' }, 'Tolk')),
        h('nav', { class: 'nav', 'aria-label': 'Sections' }, live, conversation, room, consoleLink),
      ),
    ),
    main,
  );
  return {
    main,
    setRoute(route) {
      const sections: Partial<Record<Route['name'], HTMLAnchorElement>> = { live, conversation, join: conversation, room, console: consoleLink };
      const section = sections[route.name];
      for (const link of [live, conversation, room, consoleLink]) {
        if (link === section) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
  };
}
