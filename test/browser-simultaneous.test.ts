/**
 * The live page's "Simultaneous" switch in Chromium (docs/web-app.md "Simultaneous mode"): with it
 * on, the page asks for the mode in its config, and while a long sentence is still being spoken the
 * translation spoken so far shows under the interim text, greyed (italic, the muted colour), before
 * any final card. The fake microphone plays 20 s of continuous LibriVox speech
 * (test/continuous-speech.ts).
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { ARTIFACTS, browserPrerequisiteProblem, LAPTOP, launchChromium, openPage, screenshot, until } from './browser-support.js';
import { continuousLibrivox } from './continuous-speech.js';
import { closeTestEngines, startTestServer } from './helpers.js';

const UI_TIMEOUT_MS = 10_000;
const SPEECH_TIMEOUT_MS = 40_000;
const missing = browserPrerequisiteProblem();

/** Every text frame the page sends, for its config messages. */
const INSTRUMENTATION = `(() => {
  const sent = [];
  Object.defineProperty(window, '__tolkConfigs', { value: sent });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string') sent.push(data);
    return send.call(this, data);
  };
})();`;

describe('live page: the Simultaneous switch', { skip: missing ?? false, timeout: 120_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const wav = path.join(ARTIFACTS, 'fake-mic-continuous.wav');
    fs.writeFileSync(wav, writeWav({ samples: continuousLibrivox(20_000), sampleRateHz: 16000 }));
    [server, browser] = await Promise.all([startTestServer({ vad: 'energy' }), launchChromium(wav)]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await closeTestEngines();
  });

  it('sends simultaneous: true and shows the spoken translation greyed before the sentence ends', { timeout: 90_000 }, async () => {
    const { page, errors, close } = await openPage(browser, LAPTOP);
    try {
      await page.addInitScript(INSTRUMENTATION);
      await page.goto(`${server.url}/`);
      await until('the language list', () => page.getByTestId('source-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
      await page.getByTestId('target-language').selectOption('es');
      await page.getByTestId('simultaneous').check();
      await page.getByTestId('mic-button').click();
      const shown = await until('a spoken translation under the interim', () => page.getByTestId('interim-translation').textContent(), (t) => Boolean(t?.trim()), SPEECH_TIMEOUT_MS);
      assert.equal(await page.getByTestId('final-card').count(), 0, `shown before any final: ${shown}`);
      const style = await page.evaluate(`getComputedStyle(document.querySelector('[data-testid="interim-translation"]')).fontStyle`);
      assert.equal(style, 'italic', 'greyed until final');
      const configs = (await page.evaluate('window.__tolkConfigs')) as string[];
      assert.ok(configs.some((c) => (JSON.parse(c) as { simultaneous?: unknown }).simultaneous === true), configs.join('\n'));
      await screenshot(page, 'live-simultaneous');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});
