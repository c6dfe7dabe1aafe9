/**
 * The web app's language pickers in Chromium (docs/web-app.md "Languages"): they offer only what
 * the engines can do — sources that can be heard, targets a source translates into, a target
 * without a voice marked "text only" and served as text — and a conversation participant whose
 * speech cannot be recognized is told before anyone speaks and types instead. Also the layout of
 * the pickers: no language name is cut off at 390 and 1366 px.
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { closeEngines } from '../src/providers/index.js';
import type { Engines } from '../src/providers/registry.js';
import { ARTIFACTS, browserPrerequisiteProblem, clippedLanguageNames, clippedTexts, LAPTOP, launchChromium, openPage, PHONE, screenshot, until, writeSpeechWav } from './browser-support.js';
import { librivoxRecordings, startTestServer, testEngines } from './helpers.js';

const UI_TIMEOUT_MS = 10_000;
const SPEECH_TIMEOUT_MS = 30_000;

const missing = browserPrerequisiteProblem();

/** The options of a select: [value, label, data-note]. */
const optionsOf = (page: Page, testId: string): Promise<Array<[string, string, string]>> =>
  page.evaluate(`[...document.querySelector('[data-testid="${testId}"]').options].map((o) => [o.value, o.text, o.dataset.note ?? ''])`);

describe('web app: language pickers offer only what the engines can do', { skip: missing ?? false, timeout: 150_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let engines: Engines;
  let browser: Browser;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const recording = librivoxRecordings().find((r) => r.id.endsWith('0880'));
    assert.ok(recording);
    const wav = path.join(ARTIFACTS, 'fake-mic-languages-0880.wav');
    writeSpeechWav(wav, recording.path, 1000, 2500);
    [server, engines, browser] = await Promise.all([startTestServer(), testEngines(), launchChromium(wav)]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (engines) await closeEngines(engines);
  });

  it('live page: From offers only recognized languages; Galician (no voice) is "text only" and translates as text instead of failing at mic start', { timeout: 60_000 }, async () => {
    const { page, errors, close } = await openPage(browser, PHONE);
    try {
      await page.goto(`${server.url}/`);
      const source = page.getByTestId('source-language');
      await until('the language list', () => source.isEnabled(), Boolean, UI_TIMEOUT_MS);
      assert.deepEqual((await optionsOf(page, 'source-language')).map(([v]) => v), ['en-US'], 'only English can be heard');
      const targets = await optionsOf(page, 'target-language');
      assert.deepEqual(targets.find(([v]) => v === 'gl'), ['gl', 'Galician (text only)', 'text only']);
      assert.deepEqual(targets.find(([v]) => v === 'es'), ['es', 'Spanish', '']);
      assert.equal(await page.getByTestId('swap-languages').isDisabled(), true, 'Spanish cannot be heard: no swap');

      await page.getByTestId('target-language').selectOption('gl');
      await until('the text-only note', () => page.getByTestId('text-only-note').isVisible(), Boolean, UI_TIMEOUT_MS);
      assert.match((await page.getByTestId('text-only-note').textContent()) ?? '', /No voice for Galician/);
      assert.equal(await page.getByTestId('voice').isDisabled(), true);
      await screenshot(page, 'live-text-only-phone');

      await page.getByTestId('mic-button').click();
      const card = page.getByTestId('final-card').last();
      await card.waitFor({ timeout: SPEECH_TIMEOUT_MS });
      const original = (await card.getByTestId('final-original').textContent()) ?? '';
      const translation = (await card.getByTestId('final-translation').textContent()) ?? '';
      assert.equal(translation, (await engines.mt.translate([original], { source: 'en', target: 'gl' })).join(''));
      assert.equal(await page.getByTestId('status-banner').isHidden(), true, `banner: ${await page.getByTestId('status-banner').textContent()}`);
      assert.deepEqual(errors, []);
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'live-text-only-laptop');
    } finally {
      await close();
    }
  });

  it('conversation: the start and join screens mark Spanish "typing only"; the guest is told before anyone speaks and types; the host reads the translation', { timeout: 60_000 }, async () => {
    const a = await openPage(browser, LAPTOP);
    const b = await openPage(browser, PHONE);
    try {
      await a.page.goto(`${server.url}/conversation`);
      await until('the language list', () => a.page.getByTestId('my-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
      assert.deepEqual((await optionsOf(a.page, 'their-language')).find(([v]) => v === 'es'), ['es', 'Spanish (typing only)', 'typing only']);
      await a.page.getByTestId('my-language').selectOption('en-US');
      await a.page.getByTestId('their-language').selectOption('es');
      assert.match((await a.page.getByTestId('pair-note').textContent()) ?? '', /Speech in Spanish cannot be recognized on this server: your partner types/);
      await screenshot(a.page, 'conversation-start-laptop');
      await a.page.setViewportSize(PHONE);
      await screenshot(a.page, 'conversation-start-phone');
      await a.page.setViewportSize(LAPTOP);
      await a.page.getByTestId('create-conversation').click();
      const joinUrl = (await a.page.getByTestId('join-link').getAttribute('href')) ?? '';

      await b.page.goto(joinUrl);
      await until('the join form', () => b.page.getByTestId('my-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
      await b.page.getByTestId('my-language').selectOption('es');
      assert.match((await b.page.getByTestId('pair-note').textContent()) ?? '', /Speech in Spanish cannot be recognized on this server: you type/);
      await screenshot(b.page, 'conversation-join-phone');
      await b.page.getByTestId('join-conversation').click();

      // Before anyone speaks: the notice, and a text field.
      const notice = b.page.getByTestId('hearing-notice');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /Speech in Spanish cannot be recognized on this server\. Type your messages/);
      await until('B connected', () => b.page.getByTestId('participant-count').getAttribute('data-count'), (c) => c === '2', UI_TIMEOUT_MS);
      await b.page.getByTestId('text-input').fill('el perro come');
      await b.page.getByTestId('send-text').click();

      const theirs = a.page.locator('[data-testid="chat-bubble"][data-mine="false"]').first();
      await theirs.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await theirs.getByTestId('bubble-text').textContent(), (await engines.mt.translate(['el perro come'], { source: 'es', target: 'en' })).join(''));
      assert.equal(await theirs.getByTestId('bubble-original').textContent(), 'el perro come');
      const mine = b.page.locator('[data-testid="chat-bubble"][data-mine="true"]').first();
      await mine.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await mine.getByTestId('bubble-text').textContent(), 'el perro come');
      assert.equal(await b.page.getByTestId('text-input').inputValue(), '', 'the field is emptied after sending');
      assert.equal(await notice.isVisible(), true, 'the notice stays');
      await screenshot(b.page, 'conversation-guest-typing-phone');
      await screenshot(a.page, 'conversation-host-reads-typed-laptop');
      // The room's language names are not cut off ("American Engl…") at 1366 or 390 px.
      for (const viewport of [LAPTOP, PHONE]) {
        await a.page.setViewportSize(viewport);
        assert.deepEqual(await clippedTexts(a.page, '.lang-list dd'), [], `room at ${viewport.width} px`);
      }
      assert.deepEqual([...a.errors, ...b.errors], []);
    } finally {
      await Promise.allSettled([a.close(), b.close()]);
    }
  });

  it('no language name is cut off in the pickers at 390 and 1366 px (live, conversation start, join)', { timeout: 40_000 }, async () => {
    const { page, close } = await openPage(browser, PHONE);
    try {
      const created = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
      const { conversation_id: id } = (await created.json()) as { conversation_id: string };
      for (const viewport of [PHONE, LAPTOP]) {
        await page.setViewportSize(viewport);
        for (const [address, firstSelect] of [['/', 'source-language'], ['/conversation', 'my-language'], [`/join/${id}`, 'my-language']] as const) {
          await page.goto(`${server.url}${address}`);
          await until(`the languages of ${address}`, () => page.getByTestId(firstSelect).isEnabled(), Boolean, UI_TIMEOUT_MS);
          await page.evaluate('document.fonts.ready');
          assert.deepEqual(await clippedLanguageNames(page), [], `${address} at ${viewport.width} px`);
        }
      }
    } finally {
      await close();
    }
  });
});
