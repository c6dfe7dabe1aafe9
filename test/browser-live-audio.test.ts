/**
 * The live page's microphone and connection in Chromium (docs/web-app.md "Audio path", "States the
 * app explains"): the microphone stays open while the translation plays (the browser's echo
 * cancellation, not silence), so the second of two sentences is not lost; and when the server stops
 * mid-sentence the interim does not hang: it becomes a card marked as not translated and the page
 * shows the disconnect.
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { closeEngines } from '../src/providers/index.js';
import type { Engines } from '../src/providers/registry.js';
import { ARTIFACTS, browserPrerequisiteProblem, LAPTOP, launchChromium, openPage, PHONE, screenshot, until } from './browser-support.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines, wordErrors } from './helpers.js';

const UI_TIMEOUT_MS = 10_000;
const SPEECH_TIMEOUT_MS = 40_000;
/** A sent frame whose RMS (full scale = 1) is above this counts as speech. */
const SPEECH_RMS = 0.005;
/** Words of the second sentence (8) the second card must get right. */
const MIN_WORDS_RIGHT = 3;

const missing = browserPrerequisiteProblem();

/** Every binary frame the page sends ([Date.now(), RMS]) and every change of the "Speaking" pill. */
const INSTRUMENTATION = `(() => {
  const log = { sent: [], playback: [] };
  Object.defineProperty(window, '__tolkAudio', { value: log });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (data instanceof ArrayBuffer) {
      const s = new Int16Array(data, 0, data.byteLength >> 1);
      let sum = 0;
      for (let i = 0; i < s.length; i++) sum += s[i] * s[i];
      log.sent.push([Date.now(), Math.sqrt(sum / Math.max(1, s.length)) / 32768]);
    }
    return send.call(this, data);
  };
  let last;
  new MutationObserver(() => {
    const pill = document.querySelector('[data-testid="playback-indicator"]');
    const on = Boolean(pill && !pill.hidden);
    if (on !== last) { last = on; log.playback.push([Date.now(), on]); }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['hidden'] });
})();`;

/** How far apart vertically (px) the transcript header's items are: one line is about 30 px. */
const HEADER_SPREAD = `(() => {
  const items = [...document.querySelectorAll('.transcript-card > .card-head h2, .transcript-card > .card-head .card-head-tools > *')].filter((e) => e.offsetParent !== null);
  const rects = items.map((e) => e.getBoundingClientRect());
  return Math.round(Math.max(...rects.map((r) => r.bottom)) - Math.min(...rects.map((r) => r.top)));
})()`;

/** How many px of the last card's text the floating microphone (button and hint) covers (≤ 0: none). */
const MIC_OVER_LAST_CARD = `(() => {
  const cards = document.querySelectorAll('[data-testid="final-card"]');
  const last = cards[cards.length - 1];
  const mic = document.querySelector('.control-card .mic-area .mic-button').getBoundingClientRect();
  return Math.round(last.getBoundingClientRect().bottom - mic.top);
})()`;

interface AudioLog {
  sent: Array<[number, number]>;
  playback: Array<[number, boolean]>;
}

/** The voiced frames the page sent while the "Speaking" pill was shown. */
function voicedFramesDuringPlayback(log: AudioLog): number {
  let count = 0;
  for (const [t, rms] of log.sent) {
    const state = log.playback.filter(([at]) => at <= t).at(-1);
    if (state?.[1] === true && rms >= SPEECH_RMS) count++;
  }
  return count;
}

/** The `original` of a spec-003 interim message (`is_final: false`), else undefined. */
function interimOf(message: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { is_final?: unknown; original?: unknown };
    return parsed.is_final === false && typeof parsed.original === 'string' ? parsed.original : undefined;
  } catch {
    return undefined;
  }
}

const recordingOf = (suffix: string): { path: string; reference: string } => {
  const found = librivoxRecordings().find((r) => r.id.endsWith(suffix));
  if (!found) throw new Error(`LibriVox recording ${suffix} not found`);
  return found;
};

/** "he was not an ill disposed young man" (3 s), 900 ms of silence, "he might even have been made amiable himself" (3.3 s). */
function writeTwoSentenceWav(file: string): void {
  const first = loadWav(recordingOf('0880').path);
  const second = loadWav(recordingOf('0930').path);
  const rate = first.sampleRateHz;
  assert.equal(second.sampleRateHz, rate);
  const ms = (n: number): number => (n * rate) / 1000;
  const out = new Int16Array(ms(1000) + first.samples.length + ms(900) + second.samples.length + ms(3000));
  out.set(first.samples, ms(1000));
  out.set(second.samples, ms(1000) + first.samples.length + ms(900));
  fs.writeFileSync(file, writeWav({ samples: out, sampleRateHz: rate }));
}

describe('live page: microphone during playback, and a server that stops mid-sentence', { skip: missing ?? false, timeout: 150_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let engines: Engines;
  let browser: Browser;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const wav = path.join(ARTIFACTS, 'fake-mic-two-sentences.wav');
    writeTwoSentenceWav(wav);
    [server, engines, browser] = await Promise.all([startTestServer(), testEngines(), launchChromium(wav)]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (engines) await closeEngines(engines);
  });

  async function startLive(page: Page): Promise<void> {
    await page.goto(`${server.url}/`);
    await until('the language list', () => page.getByTestId('source-language').isEnabled(), Boolean, UI_TIMEOUT_MS);
    await page.getByTestId('target-language').selectOption('es');
    await page.getByTestId('mic-button').click();
    await until('the microphone', () => page.getByTestId('mic-button').getAttribute('data-state'), (s) => s === 'live', UI_TIMEOUT_MS);
  }

  it('keeps the microphone open while the first sentence\'s translation plays: the second sentence is recognized', { timeout: 70_000 }, async () => {
    const { page, errors, close } = await openPage(browser, PHONE);
    try {
      await page.addInitScript(INSTRUMENTATION);
      await startLive(page);
      // Newest first: the last card is the first sentence, the one before it the second.
      await until('two final cards', () => page.getByTestId('final-card').count(), (n) => n >= 2, SPEECH_TIMEOUT_MS);
      const cards = page.getByTestId('final-card');
      const n = await cards.count();
      const secondText = (await cards.nth(n - 2).getByTestId('final-original').textContent()) ?? '';
      const log = (await page.evaluate('window.__tolkAudio')) as AudioLog;
      const voiced = voicedFramesDuringPlayback(log);
      const reference = recordingOf('0930').reference;
      const { errors: wrong, words } = wordErrors(reference, secondText.replace(/[^a-z' ]/gi, ' '));
      console.log(`# live page: second sentence heard as "${secondText}" (${words - wrong} of ${words} words right); ${voiced} voiced frames (40 ms each) sent while the translation played`);
      assert.ok(log.playback.some(([, on]) => on), 'the translation never played');
      assert.ok(voiced >= 10, `only ${voiced} voiced frames were sent while the translation played: the microphone was muted`);
      assert.ok(words - wrong >= MIN_WORDS_RIGHT, `the second sentence came out as "${secondText}"`);
      assert.equal(await page.getByTestId('playback-indicator').getAttribute('data-wait'), 'false', 'with echo cancellation the speaker need not wait');
      assert.deepEqual(errors, []);

      // Layout on a phone (docs/web-app.md "Layout"): the pills keep the transcript's header on one
      // line while speech plays, and scrolled to the end the floating microphone covers no card.
      await until('the "Speaking" pill again', () => page.getByTestId('playback-indicator').isVisible(), Boolean, SPEECH_TIMEOUT_MS);
      const headerSpreadPx = (await page.evaluate(HEADER_SPREAD)) as number;
      await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
      const overlapPx = (await page.evaluate(MIC_OVER_LAST_CARD)) as number;
      await screenshot(page, 'live-speaking-phone');
      assert.ok(headerSpreadPx <= 40, `the transcript header wraps: its items span ${headerSpreadPx} px vertically`);
      assert.ok(overlapPx <= 0, `the microphone covers ${overlapPx} px of the last card`);
    } finally {
      await close();
    }
  });

  it('the server stops mid-sentence: the interim becomes a card marked "not translated" and the page shows the disconnect', { timeout: 60_000 }, async () => {
    const { page, errors, close } = await openPage(browser, PHONE);
    let serverDown = false;
    let stopped: (interim: string) => void = () => undefined;
    const stoppedOn = new Promise<string>((resolve) => (stopped = resolve));
    // Every live socket goes through here. The server "stops" right after it sent an interim of two
    // words or more: that interim reaches the page, nothing after it does (so no final can race it),
    // and the next sockets are refused.
    await page.routeWebSocket(/\/api\/v1\/ws\/single$/, (ws) => {
      if (serverDown) return void ws.close({ code: 1011, reason: 'Server stopped' });
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        if (serverDown) return;
        ws.send(message);
        const interim = typeof message === 'string' ? interimOf(message) : undefined;
        if (interim === undefined || interim.trim().split(/\s+/).length < 2) return;
        serverDown = true;
        upstream.close({ code: 1001, reason: 'Going away' });
        void ws.close({ code: 1012, reason: 'Server stopped' }).then(() => stopped(interim));
      });
    });
    try {
      await startLive(page);
      const interim = page.getByTestId('interim-text');
      const heard = await stoppedOn;
      const card = page.locator('[data-testid="final-card"][data-interrupted="true"]');
      await card.waitFor({ timeout: UI_TIMEOUT_MS });
      const kept = (await card.getByTestId('final-original').textContent()) ?? '';
      assert.ok(kept.startsWith(heard.trim()), `the card keeps "${kept}", the interim was "${heard}"`);
      assert.match((await card.getByTestId('final-interrupted').textContent()) ?? '', /Not translated — the connection was lost/);
      assert.equal(((await interim.textContent()) ?? '').trim(), '', 'the interim line still shows the unfinished sentence');
      await until('the reconnecting state', () => page.getByTestId('connection-state').getAttribute('data-state'), (s) => s === 'reconnecting', UI_TIMEOUT_MS);
      const banner = page.getByTestId('status-banner');
      assert.equal(await banner.getAttribute('data-owner'), 'connection');
      assert.match((await banner.textContent()) ?? '', /Connection lost|Cannot reach the server/);
      await screenshot(page, 'live-disconnected-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'live-disconnected-laptop');
      assert.deepEqual(errors.filter((e) => !/WebSocket/.test(e)), []);
    } finally {
      await close();
    }
  });
});
