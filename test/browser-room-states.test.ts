/**
 * The room page's states in Chromium (docs/web-app.md "Layout", docs/rooms.md): on a phone each
 * translation sits under its original; when the LiveKit server dies the page stops claiming
 * "Interpreter here"; when the interpreter cannot join, the page says so instead of "An internal
 * error occurred". Real `livekit-server --dev`, real Tolk, a fake microphone playing LibriVox.
 *
 * Needs /usr/bin/chromium, web/dist and livekit-server (LIVEKIT_SERVER_BIN); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import type { Browser } from 'playwright-core';
import { closeEngines } from '../src/providers/index.js';
import { ARTIFACTS, browserPrerequisiteProblem, LAPTOP, launchChromium, openPage, PHONE, screenshot, until, writeSpeechWav } from './browser-support.js';
import { freePort, librivoxRecordings, prewarmRecognizers, startTestServer, testEngines } from './helpers.js';
import { liveKitServerBin, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

const UI_TIMEOUT_MS = 15_000;
const SPEECH_TIMEOUT_MS = 40_000;

const browserMissing = browserPrerequisiteProblem();
const liveKitMissing = browserMissing ?? (fs.existsSync(liveKitServerBin()) ? undefined : `no livekit-server at ${liveKitServerBin()}`);

const wav = path.join(ARTIFACTS, 'fake-mic-room-states-0880.wav');
function writeWavOnce(): void {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const recording = librivoxRecordings().find((r) => r.id.endsWith('0880'));
  assert.ok(recording);
  writeSpeechWav(wav, recording.path, 1500, 3000);
}

describe('room page: the interpreter cannot join', { skip: browserMissing ?? false, timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  before(async () => {
    writeWavOnce();
    // A LiveKit URL nobody listens on: the interpreter cannot join, the session answers spec 001's internal_error.
    const deadUrl = `ws://127.0.0.1:${await freePort()}`;
    [server, browser] = await Promise.all([
      startTestServer({ liveKit: { url: deadUrl, apiKey: 'devkey', apiSecret: 'secret', configured: true } }),
      launchChromium(wav),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says the interpreter could not join and why that usually happens', { timeout: 45_000 }, async () => {
    const { page, close } = await openPage(browser, PHONE);
    try {
      await page.goto(`${server.url}/room`);
      await page.getByTestId('api-key').fill(server.apiKey);
      await until('the language list', () => page.getByTestId('room-source-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
      await page.getByTestId('create-room').click();
      const banner = page.getByTestId('status-banner');
      await until('the join error', () => banner.getAttribute('data-owner'), (o) => o === 'join', 30_000);
      const text = (await banner.textContent()) ?? '';
      assert.match(text, /interpreter could not join the room, so the session was ended/);
      assert.match(text, /LiveKit server is stopped or cannot be reached from Tolk \(LIVEKIT_URL\)/);
      assert.doesNotMatch(text, /An internal error occurred/);
      await screenshot(page, 'room-interpreter-failed-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'room-interpreter-failed-laptop');
    } finally {
      await close();
    }
  });
});

describe('room page on a phone with a real livekit-server', { skip: liveKitMissing ?? false, timeout: 150_000 }, () => {
  let lk: TestLiveKitServer;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  before(async () => {
    writeWavOnce();
    lk = await startLiveKitServer();
    [server, browser] = await Promise.all([
      startTestServer({ liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true } }),
      launchChromium(wav),
      prewarmRecognizers(1),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await closeEngines(await testEngines());
    await dispose();
    await lk?.close();
  });

  it('pairs each translation with its original; after the LiveKit server dies it no longer says "Interpreter here"', { timeout: 120_000 }, async () => {
    const { page, close } = await openPage(browser, PHONE);
    try {
      await page.goto(`${server.url}/room`);
      await page.getByTestId('api-key').fill(server.apiKey);
      await until('the language list', () => page.getByTestId('room-source-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
      await page.getByTestId('room-target-language').selectOption('es');
      await page.getByTestId('create-room').click();
      const interpreter = page.getByTestId('interpreter-state');
      await until('the interpreter', () => interpreter.getAttribute('data-state'), (s) => s === 'open', UI_TIMEOUT_MS);
      assert.equal(await interpreter.textContent(), 'Interpreter here');

      const translated = page.getByTestId('translated-final').first();
      await translated.waitFor({ timeout: SPEECH_TIMEOUT_MS });
      // The translation follows its original in the same list, directly under it.
      const before = await page.evaluate(`document.querySelector('[data-testid="translated-final"]').previousElementSibling?.dataset.testid`);
      assert.equal(before, 'original-final');
      const [o, t] = await Promise.all([page.getByTestId('original-final').first().boundingBox(), translated.boundingBox()]);
      assert.ok(o && t && t.y >= o.y + o.height - 1 && t.y - (o.y + o.height) < 40, `translation at ${JSON.stringify(t)} is not under its original at ${JSON.stringify(o)}`);
      await screenshot(page, 'room-paired-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'room-columns-laptop');
      await page.setViewportSize(PHONE);

      await lk.close();
      await until('the interpreter pill to leave "here"', () => interpreter.getAttribute('data-state'), (s) => s === 'unknown', 30_000);
      assert.equal(await interpreter.textContent(), 'Interpreter out of reach');
      await screenshot(page, 'room-livekit-gone-phone');
    } finally {
      await close();
    }
  });
});
