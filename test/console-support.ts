/**
 * What the console's browser tests share (docs/console.md): a recorder of every request URL,
 * navigation, localStorage snapshot and server log line, checked for API keys at the end; keyboard
 * sign-in; screenshots at 390 and 1280 px that also check nothing scrolls sideways. Used by
 * test/browser-console-sessions.test.ts.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openPage, PHONE, screenshot } from './browser-support.js';

/** The laptop width the console's screenshots are taken at. */
export const LAPTOP_1280 = { width: 1280, height: 800 };

/** Records what could leak a key: URLs and navigations of the pages it opens, localStorage, server log lines. */
export class KeyLeakRecorder {
  readonly urls: string[] = [];
  readonly logLines: string[] = [];
  readonly storage: string[] = [];
  readonly secrets = new Set<string>();

  /** A log stream for `startTestServer` whose lines are kept. */
  readonly logStream = { write: (line: string): void => void this.logLines.push(line) };

  /** A page of `viewport` whose every request URL and navigation is recorded. */
  async open(browser: Browser, viewport: { width: number; height: number }): Promise<Awaited<ReturnType<typeof openPage>>> {
    const opened = await openPage(browser, viewport);
    this.watch(opened.page);
    return opened;
  }

  /** Records `page`'s requests and navigations from now on. */
  watch(page: Page): void {
    page.on('request', (request) => this.urls.push(request.url()));
    page.on('framenavigated', (frame) => this.urls.push(frame.url()));
  }

  /** Keeps the page's localStorage for the final check. */
  async snapshotStorage(page: Page): Promise<void> {
    this.storage.push(await page.evaluate<string>('JSON.stringify({ ...localStorage })'));
  }

  /** Every place a recorded secret appears: in a URL, in localStorage, or in the server log. */
  leaks(): string[] {
    const found: string[] = [];
    for (const secret of this.secrets) {
      const body = secret.replace(/^ip_(live|test)_/, '');
      for (const u of this.urls) if (u.includes(body)) found.push(`URL ${u}`);
      for (const s of this.storage) if (s.includes(body)) found.push('localStorage');
      for (const l of this.logLines) if (l.includes(body)) found.push(`log ${l.slice(0, 120)}`);
    }
    return found;
  }

  /** Asserts that something was recorded and that no recorded secret appears in a URL, in localStorage or in the server log. */
  assertNoKeyLeaked(): void {
    assert.ok(this.urls.length > 0 && this.logLines.length > 0 && this.storage.length > 0, 'something was recorded');
    assert.deepEqual(this.leaks(), []);
  }
}

/** Signs in at `${baseUrl}${path}` with the keyboard alone (the key field is focused, Enter submits). */
export async function signInWithKeyboard(page: Page, baseUrl: string, key: string, path = '/console'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByTestId('console-sign-in').waitFor();
  assert.equal(await page.evaluate<string | undefined>('document.activeElement?.dataset.testid'), 'console-key');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.getByTestId('console-identity').waitFor();
}

/** The visible form controls in main without an accessible name (a label, aria-label or text). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('main input, main select, main button, main a')]
    .filter((e) => !(e.labels && e.labels.length > 0) && !e.getAttribute('aria-label') && !e.textContent.trim())
    .map((e) => e.outerHTML.slice(0, 80))`);
}

/** Screenshots at 390 and 1280 px, scrolled to `testId` when given; nothing may be wider than the screen. */
export async function screenshotBothWidths(page: Page, name: string, testId?: string): Promise<void> {
  for (const [viewport, suffix] of [[PHONE, 'phone'], [LAPTOP_1280, 'laptop']] as const) {
    await page.setViewportSize(viewport);
    assert.equal(await page.evaluate<number>('document.documentElement.scrollWidth'), viewport.width, `${name} at ${viewport.width} px scrolls sideways`);
    if (testId) await page.getByTestId(testId).first().scrollIntoViewIfNeeded();
    await screenshot(page, `${name}-${suffix}`);
  }
}
