/**
 * Lock-down in Chromium (docs/security.md "Lock-down"): with `TOLK_REQUIRE_KEY=1` the live page and
 * the conversation start screen ask for an API key before anything else, refuse a wrong one with the
 * server's message, and work after signing in; without the switch they need none.
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { ARTIFACTS, browserPrerequisiteProblem, LAPTOP, launchChromium, openPage, PHONE, screenshot, until } from './browser-support.js';
import { startTestServer } from './helpers.js';

const UI_TIMEOUT_MS = 10_000;
const missing = browserPrerequisiteProblem();

describe('web app lock-down', { skip: missing ?? false, timeout: 120_000 }, () => {
  let locked: Awaited<ReturnType<typeof startTestServer>>;
  let open: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const silence = path.join(ARTIFACTS, 'fake-mic-silence-lockdown.wav');
    fs.writeFileSync(silence, writeWav({ samples: new Int16Array(16000), sampleRateHz: 16000 }));
    [locked, open, browser] = await Promise.all([startTestServer({ requireKey: true }), startTestServer(), launchChromium(silence)]);
  });

  after(async () => {
    await browser?.close();
    await Promise.allSettled([locked?.close(), open?.close()]);
  });

  it('TOLK_REQUIRE_KEY=1: the live page asks for a key, refuses a wrong one, and works after signing in; so does the conversation screen', { timeout: 60_000 }, async () => {
    const { page, close } = await openPage(browser, PHONE);
    try {
      await page.goto(`${locked.url}/`);
      const card = page.getByTestId('sign-in');
      await card.waitFor();
      assert.equal(await page.getByTestId('mic-button').getAttribute('data-state'), 'disabled');
      assert.equal(await page.getByTestId('source-language').isDisabled(), true);
      await screenshot(page, 'live-sign-in-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'live-sign-in-laptop');
      await page.setViewportSize(PHONE);

      await page.getByTestId('sign-in-key').fill('ip_live_wrong');
      await page.getByTestId('sign-in-submit').click();
      await until('the refusal', () => page.getByTestId('sign-in-error').textContent(), (t) => t === 'Invalid API key.', UI_TIMEOUT_MS);

      await page.getByTestId('sign-in-key').fill(locked.apiKey);
      await page.getByTestId('sign-in-submit').click();
      await until('the page after signing in', () => page.getByTestId('mic-button').getAttribute('data-state'), (s) => s === 'idle', UI_TIMEOUT_MS);
      assert.equal(await page.getByTestId('sign-in').count(), 0);
      await page.getByTestId('mic-button').click();
      await until('the live stream (refused without the key)', () => page.getByTestId('connection-state').getAttribute('data-state'), (s) => s === 'open', UI_TIMEOUT_MS);

      await page.goto(`${locked.url}/conversation`);
      await until('the start form', () => page.getByTestId('create-conversation').isEnabled(), Boolean, UI_TIMEOUT_MS);
      assert.equal(await page.getByTestId('sign-in').count(), 0, 'the sign-in cookie serves every page');

      const fresh = await openPage(browser, LAPTOP);
      try {
        await fresh.page.goto(`${locked.url}/conversation`);
        await fresh.page.getByTestId('sign-in').waitFor();
        assert.equal(await fresh.page.getByTestId('create-conversation').isDisabled(), true);
        await screenshot(fresh.page, 'conversation-sign-in-laptop');
        await fresh.page.setViewportSize(PHONE);
        await screenshot(fresh.page, 'conversation-sign-in-phone');
      } finally {
        await fresh.close();
      }
    } finally {
      await close();
    }
  });

  it('without the switch the live page needs no key', { timeout: 30_000 }, async () => {
    const { page, close } = await openPage(browser, PHONE);
    try {
      await page.goto(`${open.url}/`);
      await until('the microphone', () => page.getByTestId('mic-button').getAttribute('data-state'), (s) => s === 'idle', UI_TIMEOUT_MS);
      assert.equal(await page.getByTestId('sign-in').count(), 0);
    } finally {
      await close();
    }
  });
});
