/**
 * The web app in a real browser: Debian's Chromium driven by playwright-core, with a fake microphone
 * that plays a LibriVox recording (Chromium's `--use-file-for-fake-audio-capture`), against a real
 * Tolk server (startTestServer) with the offline engines. The live page and a two-browser
 * conversation are exercised end to end: speech in, transcripts, translation and speech out.
 *
 * Needs /usr/bin/chromium (Debian package `chromium`; `make test` installs it) and web/dist
 * (`cd web && npm run build`). Without them the tests are skipped with the reason, and fail under
 * CI=true. Screenshots go to test-artifacts/browser/; with TOLK_UPDATE_SCREENSHOTS=1 they are also
 * copied to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, WebSocket as PwWebSocket } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { closeEngines } from '../src/providers/index.js';
import type { Engines } from '../src/providers/registry.js';
import { ARTIFACTS, browserPrerequisiteProblem, launchChromium, screenshot, until as waitUntil, writeSpeechWav } from './browser-support.js';
import { librivoxRecordings, startTestServer, testEngines, wordErrors } from './helpers.js';


const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 768 };
/** Bound for anything that waits on speech recognition in the browser (the recording is 3 s long). */
const SPEECH_TIMEOUT_MS = 30_000;
/** Bound for page loads and UI state changes. */
const UI_TIMEOUT_MS = 10_000;
/** Leading silence of the fake microphone's WAV (the capture graph starts up during it), in ms. */
const LEAD_SILENCE_MS = 1000;
/** Trailing silence, so the server's endpointing ends the utterance before the WAV loops, in ms. */
const TRAIL_SILENCE_MS = 2500;
/** Words of the recording's reference transcript (8 words) the recognized text must get right. */
const MIN_WORDS_RIGHT = 3;
/** A captured frame whose RMS (full scale = 1) is above this counts as speech. */
const SPEECH_RMS = 0.005;

const missing = browserPrerequisiteProblem();
if (missing && process.env.CI === 'true') {
  // Under CI a missing browser must not pass as a skip.
  describe('web app in Chromium', () => {
    it('has its prerequisites under CI=true', () => assert.fail(`CI=true but ${missing}`));
  });
}

/** {@link waitUntil} with this file's bound for speech by default. */
const until = <T>(what: string, probe: () => Promise<T> | T, predicate: (value: T) => boolean, timeoutMs = SPEECH_TIMEOUT_MS): Promise<T> => waitUntil(what, probe, predicate, timeoutMs);

/** "he was not an ill disposed young man" (3 s). */
const recording = (() => {
  const found = librivoxRecordings().find((r) => r.id.endsWith('0880'));
  if (!found) throw new Error('LibriVox recording 0880 not found');
  return found;
})();

/**
 * Instrumentation injected before the app's own scripts: every binary frame the page sends (with
 * its RMS, at the moment it is sent) and every change the tests care about (interim text, final
 * cards, chat bubbles, playback indicator, status banner), each with its `Date.now()`.
 */
const INSTRUMENTATION = `(() => {
  const log = { sent: [], events: [] };
  Object.defineProperty(window, '__tolk', { value: log });
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
  const seen = new WeakSet();
  const last = {};
  const track = (kind, value, t) => {
    if (last[kind] === value) return;
    last[kind] = value;
    log.events.push({ t, kind, text: value });
  };
  const scan = () => {
    const t = Date.now();
    const q = (id) => document.querySelector('[data-testid="' + id + '"]');
    track('interim', q('interim-text')?.textContent ?? '', t);
    track('chat-interim', q('chat-interim')?.textContent ?? '', t);
    const playback = q('playback-indicator');
    track('playback', String(Boolean(playback && !playback.hidden)), t);
    const banner = q('status-banner');
    track('banner', banner && !banner.hidden ? (banner.dataset.owner + ': ' + banner.textContent) : '', t);
    for (const el of document.querySelectorAll('[data-testid="final-card"], [data-testid="chat-bubble"]')) {
      if (seen.has(el)) continue;
      seen.add(el);
      log.events.push({ t, kind: el.dataset.testid, text: el.textContent, id: el.dataset.utteranceId });
    }
  };
  new MutationObserver(scan).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['hidden', 'data-state', 'data-count'],
  });
})();`;

interface PageLog {
  /** [Date.now(), RMS] of each binary frame the page sent. */
  sent: Array<[number, number]>;
  events: Array<{ t: number; kind: string; text: string; id?: string }>;
}

const pageLog = (page: Page): Promise<PageLog> => page.evaluate('window.__tolk') as Promise<PageLog>;

/** Counts what a page's WebSocket to `pathPart` carries. */
class SocketTap {
  audioBytesIn = 0;
  audioFramesIn = 0;
  textIn: string[] = [];
  sockets = 0;

  constructor(page: Page, pathPart: string) {
    page.on('websocket', (ws: PwWebSocket) => {
      if (!ws.url().includes(pathPart)) return;
      this.sockets++;
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string') {
          this.textIn.push(payload);
        } else {
          this.audioBytesIn += payload.length;
          this.audioFramesIn++;
        }
      });
    });
  }
}



/** A new page of `viewport` size with the instrumentation, and the errors it logs. */
async function newPage(browser: Browser, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.addInitScript(INSTRUMENTATION);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { context, page, errors };
}

/**
 * The end of the first stretch of speech the page sent: the last frame above {@link SPEECH_RMS}
 * before at least `gapMs` of frames below it (wall clock, ms).
 */
function endOfFirstSpeech(sent: PageLog['sent'], gapMs = 600): number | undefined {
  let lastLoud: number | undefined;
  for (const [t, rms] of sent) {
    if (rms >= SPEECH_RMS) lastLoud = t;
    else if (lastLoud !== undefined && t - lastLoud >= gapMs) return lastLoud;
  }
  return undefined;
}

/**
 * Checks that `text` is the recording's English as pocketsphinx hears it through the browser's
 * audio path (echo cancellation, noise suppression, gain control, two resamplers): at least
 * {@link MIN_WORDS_RIGHT} of its 8 words. Fed straight to the server the recording gives "he was not
 * until disposed young man" (6 right); through Chromium, 3 to 6.
 */
function assertEnglishOfRecording(text: string): void {
  const { errors, words } = wordErrors(recording.reference, text.replace(/[^a-z' ]/gi, ' '));
  assert.ok(words - errors >= MIN_WORDS_RIGHT, `"${text}" gets fewer than ${MIN_WORDS_RIGHT} words of "${recording.reference}" right`);
}

describe('web app in Chromium with a fake microphone', { skip: missing ?? false, timeout: 170_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let engines: Engines;
  let speaking: Browser;
  let silent: Browser;
  const speechWav = path.join(ARTIFACTS, 'fake-mic-librivox-0880.wav');
  const silenceWav = path.join(ARTIFACTS, 'fake-mic-silence.wav');

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    writeSpeechWav(speechWav, recording.path, LEAD_SILENCE_MS, TRAIL_SILENCE_MS);
    fs.writeFileSync(silenceWav, writeWav({ samples: new Int16Array(2 * 16000), sampleRateHz: 16000 }));
    [server, engines, speaking, silent] = await Promise.all([
      startTestServer(), testEngines(), launchChromium(speechWav), launchChromium(silenceWav),
    ]);
  });

  after(async () => {
    await Promise.allSettled([speaking?.close(), silent?.close()]);
    await server?.close();
    if (engines) await closeEngines(engines);
  });

  it('live page: English → Spanish from the microphone: interim, final card with the Apertium translation and latency, speech played', { timeout: 80_000 }, async () => {
    const { context, page, errors } = await newPage(speaking, PHONE);
    const tap = new SocketTap(page, '/api/v1/ws/single');
    try {
      await page.goto(`${server.url}/`);
      const source = page.getByTestId('source-language');
      await until('the language list', () => source.isEnabled(), Boolean, UI_TIMEOUT_MS);
      await source.selectOption('en-US');
      await page.getByTestId('target-language').selectOption('es');
      const mic = page.getByTestId('mic-button');
      assert.equal(await mic.getAttribute('data-state'), 'idle');
      await mic.click();
      await until('the microphone to be live', () => mic.getAttribute('data-state'), (s) => s === 'live', UI_TIMEOUT_MS);
      assert.equal(await mic.getAttribute('aria-pressed'), 'true');
      await until('the connection', () => page.getByTestId('connection-state').getAttribute('data-state'), (s) => s === 'open', UI_TIMEOUT_MS);

      const card = page.getByTestId('final-card').last(); // newest first: last() is the first utterance
      await card.waitFor({ timeout: SPEECH_TIMEOUT_MS });
      const original = (await card.getByTestId('final-original').textContent()) ?? '';
      const translation = (await card.getByTestId('final-translation').textContent()) ?? '';
      const latencyText = (await card.getByTestId('final-latency').textContent()) ?? '';
      const expected = (await engines.mt.translate([original], { source: 'en', target: 'es' })).join('');
      assertEnglishOfRecording(original);
      assert.equal(translation, expected);
      assert.notEqual(translation, original);
      const latencyMatch = /^(\d+) ms$/.exec(latencyText.trim());
      assert.ok(latencyMatch, `latency "${latencyText}"`);
      const serverLatencyMs = Number(latencyMatch[1]);
      assert.ok(serverLatencyMs > 0 && serverLatencyMs < 5000, `latency ${serverLatencyMs} ms`);

      // Translated speech: binary frames arrive and the player reports playing.
      await until('translated speech', () => tap.audioBytesIn, (n) => n > 16000);
      await until('the playback indicator', async () => (await pageLog(page)).events.some((e) => e.kind === 'playback' && e.text === 'true'), Boolean, UI_TIMEOUT_MS);

      // The page's own record, once it holds the pause after the first stretch of speech.
      const log = await until('the pause after the speech', () => pageLog(page), (l) => endOfFirstSpeech(l.sent) !== undefined, UI_TIMEOUT_MS);
      const interims = log.events.filter((e) => e.kind === 'interim' && e.text !== '');
      const firstCard = log.events.find((e) => e.kind === 'final-card');
      assert.ok(interims.length > 0, 'no interim transcript was shown');
      assert.ok(firstCard && interims[0] && interims[0].t < firstCard.t, 'the interim did not come before the final');
      const speechEnd = endOfFirstSpeech(log.sent);
      assert.ok(speechEnd !== undefined, `no end of speech in the ${log.sent.length} frames the page sent`);
      const browserLatencyMs = firstCard.t - speechEnd;
      assert.ok(browserLatencyMs > 0 && browserLatencyMs < 10_000, `end of speech → card ${browserLatencyMs} ms`);
      console.log(`# live page: "${original}" → "${translation}"`);
      console.log(`# live page: end of speech (last voiced frame sent) → final card in the page ${browserLatencyMs} ms; server latency shown on the card ${serverLatencyMs} ms; ${interims.length} interim updates; ${tap.audioFramesIn} speech frames (${tap.audioBytesIn} bytes) received`);
      assert.equal(tap.sockets, 1, 'the live page opened one WebSocket and kept it');
      assert.deepEqual(errors, [], 'errors in the page');

      await screenshot(page, 'live-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'live-laptop');
    } finally {
      await context.close();
    }
  });

  it('conversation: A (English) starts and shows a QR code; B opens the join link in another browser and picks Spanish; A\'s speech is "mine" on A, Spanish "theirs" on B', { timeout: 80_000 }, async () => {
    const a = await newPage(speaking, LAPTOP);
    const b = await newPage(silent, PHONE);
    const tapA = new SocketTap(a.page, '/api/v1/ws/');
    const tapB = new SocketTap(b.page, '/api/v1/ws/');
    try {
      // A starts the conversation.
      await a.page.goto(`${server.url}/conversation`);
      const aLanguage = a.page.getByTestId('my-language');
      await until('the language list', () => aLanguage.isEnabled(), Boolean, UI_TIMEOUT_MS);
      await aLanguage.selectOption('en-US');
      await a.page.getByTestId('their-language').selectOption('es');
      await a.page.getByTestId('create-conversation').click();

      const joinLink = a.page.getByTestId('join-link');
      await joinLink.waitFor();
      const joinUrl = (await joinLink.getAttribute('href')) ?? '';
      const id = /\/join\/([0-9a-f-]{36})$/.exec(joinUrl)?.[1];
      assert.ok(joinUrl.startsWith(`${server.url}/join/`) && id, `join link ${joinUrl}`);
      assert.equal((await joinLink.textContent())?.trim(), joinUrl);
      // The server runs on 127.0.0.1 without TOLK_PUBLIC_URL: the invitation says a phone cannot open it.
      assert.match((await a.page.getByTestId('invite-warning').textContent()) ?? '', /loopback|127\.0\.0\.1|localhost/i);
      assert.match(new URL(a.page.url()).search, new RegExp(`id=${id}`), 'the address keeps the conversation for a reload');

      // The QR code: a PNG data URL, loaded and visible (480 × 480 px drawn at 240 × 240).
      const qr = a.page.getByTestId('qr-code');
      const src = await until('the QR code', () => qr.getAttribute('src'), (v) => v?.startsWith('data:image/png;base64,') === true, UI_TIMEOUT_MS);
      const png = Buffer.from((src ?? '').slice('data:image/png;base64,'.length), 'base64');
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
      assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [480, 480], 'QR PNG size');
      const qrWidth = await until('the QR image to load', () => a.page.evaluate(`(() => { const img = document.querySelector('[data-testid="qr-code"]'); return img && img.complete ? img.naturalWidth : 0; })()`), (w) => w === 480, UI_TIMEOUT_MS);
      assert.equal(qrWidth, 480);
      const box = await qr.boundingBox();
      assert.ok(box && box.width >= 150 && box.height >= 150, `QR code box ${JSON.stringify(box)}`);
      assert.equal(await a.page.getByTestId('participant-count').getAttribute('data-count'), '1');
      await screenshot(a.page, 'conversation-host-waiting-laptop');

      // B opens the link in another browser (its own fake microphone: silence) and picks Spanish.
      await b.page.goto(joinUrl);
      await until('the initiator language', () => b.page.getByTestId('initiator-language').textContent(), (t) => t === 'American English', UI_TIMEOUT_MS);
      const bLanguage = b.page.getByTestId('my-language');
      await until('the join form', () => bLanguage.isEnabled(), Boolean, UI_TIMEOUT_MS);
      await bLanguage.selectOption('es');
      await b.page.getByTestId('join-conversation').click();

      for (const [who, page] of [['A', a.page], ['B', b.page]] as const) {
        await until(`${who} to count 2 participants`, () => page.getByTestId('participant-count').getAttribute('data-count'), (c) => c === '2', UI_TIMEOUT_MS);
        assert.match((await page.getByTestId('participant-count').textContent()) ?? '', /2 people connected/);
      }
      await until('A to see B\'s language', () => a.page.getByTestId('partner-language').getAttribute('data-code'), (c) => c === 'es', UI_TIMEOUT_MS);
      assert.equal(await b.page.getByTestId('partner-language').getAttribute('data-code'), 'en-US');
      assert.equal(await a.page.getByTestId('my-language-name').textContent(), 'American English');
      assert.equal(await b.page.getByTestId('my-language-name').textContent(), 'Spanish');
      await a.page.getByTestId('chat-note').filter({ hasText: 'Your partner joined' }).waitFor();
      assert.equal(await b.page.getByTestId('chat-note').count(), 0, 'B found A already there: nobody "joined"');

      // B turns on the microphone: Spanish speech cannot be recognized here, and the page says so.
      const bMic = b.page.getByTestId('mic-button');
      await bMic.click();
      await until('B\'s microphone', () => bMic.getAttribute('data-state'), (s) => s === 'live', UI_TIMEOUT_MS);
      const bBanner = b.page.getByTestId('status-banner');
      await until('B\'s "cannot be recognized" notice', () => bBanner.getAttribute('data-owner'), (o) => o === 'server', UI_TIMEOUT_MS);
      assert.match((await bBanner.textContent()) ?? '', /Spanish cannot be recognized/);

      // A speaks (the LibriVox recording).
      const aMic = a.page.getByTestId('mic-button');
      await aMic.click();
      await until('A\'s microphone', () => aMic.getAttribute('data-state'), (s) => s === 'live', UI_TIMEOUT_MS);

      const theirs = b.page.locator('[data-testid="chat-bubble"][data-mine="false"]').first();
      const mine = a.page.locator('[data-testid="chat-bubble"][data-mine="true"]').first();
      await theirs.waitFor({ timeout: SPEECH_TIMEOUT_MS });
      await mine.waitFor({ timeout: SPEECH_TIMEOUT_MS });
      const original = (await mine.getByTestId('bubble-text').textContent()) ?? '';
      assertEnglishOfRecording(original);
      assert.equal(await mine.getByTestId('bubble-original').count(), 0, 'my own bubble repeats no original');
      assert.equal(await mine.getByTestId('bubble-text').getAttribute('lang'), 'en-US');
      const spanish = (await theirs.getByTestId('bubble-text').textContent()) ?? '';
      assert.equal(spanish, (await engines.mt.translate([original], { source: 'en', target: 'es' })).join(''));
      assert.notEqual(spanish, original);
      assert.equal(await theirs.getByTestId('bubble-text').getAttribute('lang'), 'es');
      assert.equal(await theirs.getByTestId('bubble-original').textContent(), original);
      assert.equal(await theirs.getByTestId('bubble-original').getAttribute('lang'), 'en-US');
      assert.equal(await theirs.getAttribute('data-utterance-id'), await mine.getAttribute('data-utterance-id'));
      assert.equal(await b.page.locator('[data-testid="chat-bubble"][data-mine="true"]').count(), 0, 'B said nothing recognizable');
      const latencyMatch = /^(\d+) ms$/.exec(((await theirs.getByTestId('bubble-latency').textContent()) ?? '').trim());
      assert.ok(latencyMatch, 'no latency on B\'s bubble');
      const serverLatencyMs = Number(latencyMatch[1]);

      // The final cleared B's notice; B heard the translation; A (the speaker) got no speech back.
      await until('B\'s notice to clear', () => bBanner.isHidden(), Boolean, UI_TIMEOUT_MS);
      await until('translated speech for B', () => tapB.audioBytesIn, (n) => n > 16000);
      await until('B\'s playback indicator', async () => (await pageLog(b.page)).events.some((e) => e.kind === 'playback' && e.text === 'true'), Boolean, UI_TIMEOUT_MS);
      assert.equal(tapA.audioBytesIn, 0, 'the speaker must not receive their own translation');

      const logA = await until('the pause after A\'s speech', () => pageLog(a.page), (l) => endOfFirstSpeech(l.sent) !== undefined, UI_TIMEOUT_MS);
      const logB = await pageLog(b.page);
      const aBubble = logA.events.find((e) => e.kind === 'chat-bubble');
      const bBubble = logB.events.find((e) => e.kind === 'chat-bubble');
      assert.ok(aBubble && bBubble);
      const aInterims = logA.events.filter((e) => e.kind === 'chat-interim' && e.text !== '');
      assert.ok(aInterims.length > 0 && (aInterims[0]?.t ?? Infinity) < aBubble.t, 'A saw no interim (faded bubble) before the final');
      assert.deepEqual(logB.events.filter((e) => e.kind === 'chat-interim' && e.text !== ''), [], 'a listener got an interim');
      const speechEnd = endOfFirstSpeech(logA.sent);
      assert.ok(speechEnd !== undefined, `no end of speech in the ${logA.sent.length} frames A sent`);
      const browserLatencyMs = bBubble.t - speechEnd;
      assert.ok(browserLatencyMs > 0 && browserLatencyMs < 10_000, `end of speech → B's bubble ${browserLatencyMs} ms`);
      console.log(`# conversation: "${original}" → "${spanish}"`);
      console.log(`# conversation: end of speech in A's browser → translated bubble in B's browser ${browserLatencyMs} ms (A's own bubble ${aBubble.t - speechEnd} ms); server latency shown ${serverLatencyMs} ms; B received ${tapB.audioBytesIn} bytes of speech`);
      assert.deepEqual(a.errors, [], 'errors in A\'s page');
      assert.deepEqual(b.errors, [], 'errors in B\'s page');

      await screenshot(a.page, 'conversation-host-laptop');
      await screenshot(b.page, 'conversation-guest-phone');
      await a.page.setViewportSize(PHONE);
      await screenshot(a.page, 'conversation-host-phone');

      // A leaves: B is told, and is alone again.
      await a.page.getByTestId('leave-conversation').click();
      await until('B to count 1 participant', () => b.page.getByTestId('participant-count').getAttribute('data-count'), (c) => c === '1', UI_TIMEOUT_MS);
      await b.page.getByTestId('chat-note').filter({ hasText: 'Your partner left' }).waitFor();
    } finally {
      await Promise.allSettled([a.context.close(), b.context.close()]);
    }
  });
});
