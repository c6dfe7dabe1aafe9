/**
 * The web app's LiveKit room page (`/room`) in a real browser: Debian's Chromium driven by
 * playwright-core, with a fake microphone playing a LibriVox recording, against a real
 * `livekit-server --dev` and a real Tolk server configured with it. The page creates a spec-001
 * session with the owner's API key, joins the room with livekit-client, publishes the microphone,
 * and must show the interpreter's original and translated transcripts and play its `translation`
 * track.
 *
 * Needs /usr/bin/chromium, web/dist (`cd web && npm run build`) and livekit-server (`make livekit`,
 * or LIVEKIT_SERVER_BIN). Without them the test is skipped with the reason, and fails under CI=true.
 * Screenshots go to test-artifacts/browser/ (and docs/screenshots/ with TOLK_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeEngines } from '../src/providers/index.js';
import { librivoxRecordings, prewarmRecognizers, startTestServer, testEngines, wordErrors } from './helpers.js';
import { ARTIFACTS, browserPrerequisiteProblem, launchChromium, screenshot, until as waitUntil, writeSpeechWav } from './browser-support.js';
import { liveKitServerBin, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';


const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 768 };
/** Bound for anything that waits on speech recognition through the room (the recording is 3 s long). */
const SPEECH_TIMEOUT_MS = 40_000;
/** Bound for page loads, joining the room and UI state changes. */
const UI_TIMEOUT_MS = 15_000;
/** Leading silence of the fake microphone's WAV (the capture graph and the room start up during it), in ms. */
const LEAD_SILENCE_MS = 1500;
/** Trailing silence, so the interpreter's endpointing ends the utterance before the WAV loops, in ms. */
const TRAIL_SILENCE_MS = 3000;
/** Words of the recording's reference transcript (8 words) the recognized text must get right. */
const MIN_WORDS_RIGHT = 3;

/** Why the test cannot run here, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  const browser = browserPrerequisiteProblem();
  if (browser) return browser;
  if (!fs.existsSync(liveKitServerBin())) return `no livekit-server at ${liveKitServerBin()} (run \`make livekit\`, or set LIVEKIT_SERVER_BIN)`;
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') {
  // Under CI a missing browser or LiveKit server must not pass as a skip.
  describe('room page in Chromium', () => {
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
 * Injected before the app: keeps every RTCPeerConnection the page opens (for its receive statistics)
 * and records, with `Date.now()`, each interim text and each final line the page shows.
 */
const INSTRUMENTATION = `(() => {
  const log = { pcs: [], events: [] };
  Object.defineProperty(window, '__tolk', { value: log });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); log.pcs.push(this); }
  };
  const seen = new WeakSet();
  let interim = '';
  const scan = () => {
    const t = Date.now();
    const text = document.querySelector('[data-testid="original-interim"]')?.textContent ?? '';
    if (text !== interim) { interim = text; if (text) log.events.push({ t, kind: 'interim', text }); }
    for (const el of document.querySelectorAll('[data-testid="original-final"], [data-testid="translated-final"]')) {
      if (seen.has(el)) continue;
      seen.add(el);
      log.events.push({ t, kind: el.dataset.testid, text: el.querySelector('.room-text')?.textContent ?? '' });
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

interface PageEvent {
  t: number;
  kind: 'interim' | 'original-final' | 'translated-final';
  text: string;
}

/** Inbound audio over all the page's peer connections (WebRTC `inbound-rtp` statistics). */
interface InboundAudio {
  bytesReceived: number;
  /** Sum of squared normalized sample values × duration of the decoded audio (0 for silence). */
  totalAudioEnergy: number;
}

const INBOUND_AUDIO = `(async () => {
  let bytesReceived = 0, totalAudioEnergy = 0;
  for (const pc of window.__tolk.pcs) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        bytesReceived += r.bytesReceived ?? 0;
        totalAudioEnergy += r.totalAudioEnergy ?? 0;
      }
    });
  }
  return { bytesReceived, totalAudioEnergy };
})()`;

/** The translation's `<audio>` element as the page holds it. */
const TRANSLATION_AUDIO = `(() => {
  const el = document.querySelector('audio[data-testid="translation-audio"]');
  if (!el) return undefined;
  const tracks = el.srcObject instanceof MediaStream ? el.srcObject.getAudioTracks() : [];
  return { paused: el.paused, tracks: tracks.length, live: tracks.every((t) => t.readyState === 'live') };
})()`;




/** A new phone-sized page with the instrumentation, and the errors it logs. */
async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
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

/** Waits for the room view to be connected with the interpreter in it. */
async function waitForRoom(page: Page): Promise<void> {
  await page.getByTestId('room-view').waitFor();
  await until('the room connection', () => page.getByTestId('connection-state').getAttribute('data-state'), (s) => s === 'open', UI_TIMEOUT_MS);
  await until('the interpreter', () => page.getByTestId('interpreter-state').getAttribute('data-state'), (s) => s === 'open', UI_TIMEOUT_MS);
}

/** Words of the recording's reference transcript that `text` gets right. */
function wordsRight(text: string): number {
  const { errors, words } = wordErrors(recording.reference, text.replace(/[^a-z' ]/gi, ' '));
  return words - errors;
}

/**
 * Waits for the first final original that gets {@link MIN_WORDS_RIGHT} words of the recording right
 * and its translation (the n-th translation is the n-th final's), checks the translation against the
 * MT engine, and checks that an interim came first. An earlier final may hold only the end of the
 * looping recording: the interpreter subscribes to the microphone when it joins, which may be
 * mid-sentence, as for a listener who walks in late.
 * @returns the two texts and the number of interim updates.
 */
async function assertTranscripts(page: Page): Promise<{ original: string; translation: string; interims: number }> {
  const texts = await until(`a final original with ${MIN_WORDS_RIGHT} words of "${recording.reference}"`,
    () => page.getByTestId('original-final').locator('.room-text').allTextContents(), (t) => t.some((x) => wordsRight(x) >= MIN_WORDS_RIGHT));
  const index = texts.findIndex((x) => wordsRight(x) >= MIN_WORDS_RIGHT);
  const original = texts[index] ?? '';
  const originalFinal = page.getByTestId('original-final').nth(index);
  assert.equal(await originalFinal.locator('.room-text').getAttribute('lang'), 'en-US');
  const translatedFinal = page.getByTestId('translated-final').nth(index);
  await translatedFinal.waitFor({ timeout: SPEECH_TIMEOUT_MS });
  const translation = (await translatedFinal.locator('.room-text').textContent()) ?? '';
  const expected = (await (await testEngines()).mt.translate([original], { source: 'en', target: 'es' })).join('');
  assert.equal(translation, expected);
  assert.notEqual(translation, original);

  // Interims came first, in the interim line; the final replaced it.
  const events = (await page.evaluate('window.__tolk.events')) as PageEvent[];
  const firstInterim = events.find((e) => e.kind === 'interim');
  const firstFinal = events.find((e) => e.kind === 'original-final');
  assert.ok(firstInterim && firstFinal && firstInterim.t <= firstFinal.t, `an interim before the final: ${JSON.stringify(events)}`);
  assert.equal(await page.getByTestId('original-interim').isHidden(), true, 'the final replaced the interim line');
  return { original, translation, interims: events.filter((e) => e.kind === 'interim').length };
}

/** Waits until the translation track plays in an `<audio>` and decoded speech with energy arrived. */
async function assertTranslationPlays(page: Page): Promise<InboundAudio> {
  await until('the translation <audio> to play', () => page.evaluate(TRANSLATION_AUDIO) as Promise<{ paused: boolean; tracks: number; live: boolean } | undefined>, (a) => a?.paused === false && a.tracks === 1 && a.live, UI_TIMEOUT_MS);
  return until('translated speech received', () => page.evaluate(INBOUND_AUDIO) as Promise<InboundAudio>, (s) => s.bytesReceived > 4000 && s.totalAudioEnergy > 0.01);
}

describe('room page in Chromium: spec-001 sessions with the interpreter on a real livekit-server', { skip: missing ?? false, timeout: 240_000 }, () => {
  let lk: TestLiveKitServer;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  const speechWav = path.join(ARTIFACTS, 'fake-mic-room-librivox-0880.wav');

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    writeSpeechWav(speechWav, recording.path, LEAD_SILENCE_MS, TRAIL_SILENCE_MS);
    lk = await startLiveKitServer();
    [server, browser] = await Promise.all([
      startTestServer({ liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true } }),
      launchChromium(speechWav),
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

  it('creates a session with the API key, joins, shows the original and translated transcripts and plays the translation', { timeout: 120_000 }, async () => {
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${server.url}/room`);
      await page.getByTestId('api-key').fill(server.apiKey);
      const source = page.getByTestId('room-source-language');
      await until('the language list', () => source.isEnabled(), Boolean, UI_TIMEOUT_MS);
      await source.selectOption('en-US');
      await page.getByTestId('room-target-language').selectOption('es');
      await page.getByTestId('room-voice').selectOption('female');
      await page.getByTestId('create-room').click();

      await waitForRoom(page);
      assert.match((await page.getByTestId('room-name').textContent()) ?? '', /^api-[0-9a-f]{16}$/);
      assert.equal(await page.getByTestId('api-key').count(), 0, 'the form (and the key) is gone once joined');
      const { original, translation, interims } = await assertTranscripts(page);
      assert.equal(await page.getByTestId('translated-final').first().locator('.room-text').getAttribute('lang'), 'es');

      const inbound = await assertTranslationPlays(page);
      assert.equal(await page.getByTestId('start-audio').isHidden(), true, 'playback was not blocked (the join was a click)');
      console.log(`# room page: "${original}" → "${translation}"; ${interims} interim updates; translation track: ${inbound.bytesReceived} bytes, audio energy ${inbound.totalAudioEnergy.toFixed(3)}`);
      assert.deepEqual(errors, [], 'errors in the page');

      await screenshot(page, 'room-phone');
      await page.setViewportSize(LAPTOP);
      await screenshot(page, 'room-laptop');

      // Leave: the room view goes, the form is back.
      await page.getByTestId('leave-room').click();
      await page.getByTestId('create-room').waitFor();
      assert.equal(await page.getByTestId('room-view').count(), 0);
    } finally {
      await context.close();
    }
  });

  it('joins with a pasted url and token of a session created through the API', { timeout: 120_000 }, async () => {
    const res = await fetch(`${server.url}/api/beta1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
      body: JSON.stringify({ source_language: 'en-US', target_language: 'es', voice_type: 'male' }),
    });
    assert.equal(res.status, 200);
    const { url, token } = (await res.json()) as { url: string; token: string };
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${server.url}/room`);
      await page.getByTestId('room-url').fill(url);
      await page.getByTestId('room-token').fill(token);
      await page.getByTestId('join-room').click();
      await waitForRoom(page);
      assert.equal(await page.getByTestId('room-name').textContent(), 'Room');
      await assertTranscripts(page);

      await assertTranslationPlays(page);
      assert.deepEqual(errors, [], 'errors in the page');
    } finally {
      await context.close();
    }
  });
});
