/**
 * A tiny element builder. Text is always set as text (never parsed as HTML), so transcripts from the
 * server cannot inject markup.
 */

/** A child of `h()`: nodes and strings are appended; null, undefined and false are skipped. */
export type Child = Node | string | null | undefined | false;

type AttributeValue = string | number | boolean | null | undefined;
/** Attributes by name (`class`, `data-testid`, `aria-*`, …); `on<event>` keys take listeners. */
export type Props = Record<string, AttributeValue | ((event: Event) => void)>;

/**
 * Creates an element: `h('button', { class: 'primary', onclick: go }, 'Start')`. `true` sets an
 * empty attribute (`hidden`, `disabled`); `false`, null and undefined leave it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(key, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(key, String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) if (child !== null && child !== undefined && child !== false) parent.append(child);
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Formats a time of day as the visitor's locale does, hours and minutes: "14:02". */
export function clockTime(date: Date = new Date()): string {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Formats a latency in milliseconds for display: "312 ms". */
export function formatLatency(latencyMs: number): string {
  return `${Math.round(latencyMs)} ms`;
}
