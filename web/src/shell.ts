/**
 * The app frame: header with the brand and the two sections, and the main area the pages render into.
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
        h('nav', { class: 'nav', 'aria-label': 'Sections' }, live, conversation),
      ),
    ),
    main,
  );
  return {
    main,
    setRoute(route) {
      const section = route.name === 'live' ? live : route.name === 'not-found' ? undefined : conversation;
      for (const link of [live, conversation]) {
        if (link === section) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
  };
}
