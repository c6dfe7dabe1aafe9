/**
 * The page for an unknown address.
 */
import type { Cleanup } from '../router';
import { h } from '../ui/dom';
import { icon } from '../ui/icons';

/** Mounts the "page not found" view. */
export function mountNotFound(root: HTMLElement): Cleanup {
  root.append(
    h(
      'div',
      { class: 'page page-center' },
      h(
        'section',
        { class: 'card notice-card', 'data-testid': 'not-found' },
        h('span', { class: 'notice-icon' }, icon('globe')),
        h('h1', {}, 'Page not found'),
        h('p', { class: 'lede' }, 'There is nothing at this address.'),
        h('div', { class: 'notice-actions' }, h('a', { href: '/', 'data-link': true, class: 'button primary' }, 'Go to live translation')),
      ),
    ),
  );
  return () => {};
}
