/**
 * What the Chromium tests share (test/browser.test.ts, test/browser-rooms.test.ts): Debian's
 * Chromium driven by playwright-core with a fake microphone that plays a WAV, polling waits,
 * screenshots and the fake microphone's recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { loadWav } from './helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The browser (`TOLK_CHROMIUM`, default Debian's). */
export const CHROMIUM = process.env.TOLK_CHROMIUM ?? '/usr/bin/chromium';
/** The built web app, served by Tolk at `/`. */
export const WEB_DIST_INDEX = path.join(REPO, 'web/dist/index.html');
/** Where screenshots go; with TOLK_UPDATE_SCREENSHOTS=1 they are also copied to docs/screenshots/. */
export const ARTIFACTS = path.join(REPO, 'test-artifacts/browser');
const DOC_SCREENSHOTS = path.join(REPO, 'docs/screenshots');

/** Why the browser tests cannot run here (no Chromium, web app not built), or undefined when they can. */
export function browserPrerequisiteProblem(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or make test)`;
  if (!fs.existsSync(WEB_DIST_INDEX)) return 'the web app is not built (cd web && npm ci && npm run build)';
  return undefined;
}

/** Launches Chromium with a fake microphone that plays `wav` (looped). */
export function launchChromium(wav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
}

/** Waits until `predicate` holds for what `probe` returns (polled every 100 ms), or fails naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T> | T, predicate: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Saves a screenshot of `page` as `<name>.png` in {@link ARTIFACTS}. @returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  if (process.env.TOLK_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(DOC_SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(DOC_SCREENSHOTS, `${name}.png`));
  }
  return file;
}

/** Writes a fake-microphone WAV: the recording at `recordingPath` between `leadMs` and `trailMs` of silence. */
export function writeSpeechWav(file: string, recordingPath: string, leadMs: number, trailMs: number): void {
  const { samples, sampleRateHz } = loadWav(recordingPath);
  const padded = new Int16Array(((leadMs + trailMs) * sampleRateHz) / 1000 + samples.length);
  padded.set(samples, (leadMs * sampleRateHz) / 1000);
  fs.writeFileSync(file, writeWav({ samples: padded, sampleRateHz }));
}

/** A phone's and a laptop's viewport, in CSS px. */
export const PHONE = { width: 390, height: 844 };
export const LAPTOP = { width: 1366, height: 768 };

/** A new page of `viewport` size (default timeout 10 s) in a new context, and the errors it logs. */
export async function openPage(browser: Browser, viewport: { width: number; height: number }): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, errors, close: () => context.close() };
}

/**
 * The language selects of the page whose longest option does not fit: for each, the option's label
 * and its width against the room for text (the select's width less its padding), in CSS px.
 */
export function clippedLanguageNames(page: Page): Promise<Array<{ testId: string; label: string; textPx: number; roomPx: number }>> {
  return page.evaluate(`(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const out = [];
    for (const s of document.querySelectorAll('select[data-testid]')) {
      if (s.offsetParent === null) continue;
      const cs = getComputedStyle(s);
      ctx.font = cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
      const roomPx = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      for (const o of s.options) {
        const textPx = ctx.measureText(o.text).width;
        if (textPx > roomPx) out.push({ testId: s.dataset.testid, label: o.text, textPx: Math.round(textPx), roomPx });
      }
    }
    return out;
  })()`);
}

/** The visible elements matching `selector` whose text is cut off (wider than their box): their text. */
export function clippedTexts(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})]
    .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.textContent)`);
}
