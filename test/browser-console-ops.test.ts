/**
 * The console's operations pages (docs/console.md "Live", "Usage and billing", "Webhooks and
 * engines") in Debian's Chromium against a real server with its own engines and a real database: a
 * LibriVox recording streamed over /vt appears on the Live page and leaves it when it ends; its
 * minutes and latency are on the Usage page (billing not configured: the settings are named); a
 * webhook to a loopback receiver that answers 500 then 200 shows its failed attempt, then its
 * successful retry; the engines with their request health; a member's refusal with the role rule.
 * No key in any URL, in localStorage or in the server's log.
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { writeWav } from '../src/audio/wav.js';
import { streamAudio, type StreamAudioResult } from '../src/client/vt-client.js';
import { ARTIFACTS, browserPrerequisiteProblem, launchChromium, openPage, PHONE, screenshot, until } from './browser-support.js';
import { WebhookReceiver } from './calls-support.js';
import { KeyLeakRecorder } from './console-support.js';
import { startOpsServer, type OpsServer } from './console-ops-support.js';
import { librivoxSamples } from './helpers.js';

const UI_TIMEOUT_MS = 20_000;
const LAPTOP_1280 = { width: 1280, height: 800 };
const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
const missing = browserPrerequisiteProblem();

describe('console operations pages', { skip: missing ?? false, timeout: 300_000 }, () => {
  let server: OpsServer;
  let browser: Browser;
  const recorder = new KeyLeakRecorder();
  const receiver = new WebhookReceiver();
  let hookUrl: string;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const silence = path.join(ARTIFACTS, 'fake-mic-silence-console-ops.wav');
    fs.writeFileSync(silence, writeWav({ samples: new Int16Array(16000), sampleRateHz: 16000 }));
    hookUrl = await receiver.listen();
    receiver.failFirst(1);
    [server, browser] = await Promise.all([
      // Retries 6–10 s after the failed attempt: time to see it waiting on the page. Without Redis the
      // retry waits in this server, not in the BullMQ queue other servers on the shared Redis also work.
      startOpsServer({ TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', TOLK_WEBHOOK_RETRY_BASE_MS: '8000' }, { logLevel: 'info', redis: false, logStream: recorder.logStream }),
      launchChromium(silence),
    ]);
    recorder.secrets.add(server.apiKey);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver.close();
  });

  async function api(key: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function consolePage(viewport: { width: number; height: number }) {
    const opened = await openPage(browser, viewport);
    recorder.watch(opened.page);
    return opened;
  }

  /** Opens `path` and signs in there with the keyboard (the key field has the focus; Enter submits). */
  async function signIn(page: Page, key: string, pathname: string): Promise<void> {
    await page.goto(`${server.url}${pathname}`);
    await page.getByTestId('console-sign-in').waitFor();
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await until('the page after sign-in', () => page.getByTestId('console-sign-in').count(), (n) => n === 0, UI_TIMEOUT_MS);
    assert.equal(new URL(page.url()).pathname, pathname);
  }

  /** Screenshots at 390 and 1280 px, scrolled to `testId` when given; nothing may be wider than the screen. */
  async function bothWidths(page: Page, name: string, testId?: string): Promise<void> {
    for (const [viewport, suffix] of [[PHONE, 'phone'], [LAPTOP_1280, 'laptop']] as const) {
      await page.setViewportSize(viewport);
      assert.equal(await page.evaluate<number>('document.documentElement.scrollWidth'), viewport.width, `${name} at ${viewport.width} px scrolls sideways`);
      if (testId) await page.getByTestId(testId).first().scrollIntoViewIfNeeded();
      await screenshot(page, `${name}-${suffix}`);
    }
  }

  function unlabelledControls(page: Page): Promise<string[]> {
    return page.evaluate<string[]>(`[...document.querySelectorAll('main input, main select, main button, main summary')]
      .filter((e) => !(e.labels && e.labels.length > 0) && !e.getAttribute('aria-label') && !e.textContent.trim())
      .map((e) => e.outerHTML.slice(0, 80))`);
  }

  it('shows a /vt stream on the Live page while it runs, then its minutes and latency on the Usage page', { timeout: 120_000 }, async () => {
    const { page, errors, close } = await consolePage(LAPTOP_1280);
    try {
      await signIn(page, server.apiKey, '/console/live');
      await page.getByTestId('live-empty').waitFor();
      assert.match(await page.getByTestId('capacity-held').textContent() ?? '', /^0 of \d+ \(TOLK_MAX_STREAMS\)$/);
      const created = (await api(server.apiKey, 'POST', '/api/sessions', { source_lang: 'en', target_lang: 'es' })).body as { streamUrl: string; streamToken: string };
      recorder.secrets.add(created.streamToken);
      const running: Promise<StreamAudioResult> = streamAudio({
        url: `${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`,
        config: CONFIG, samples: librivoxSamples('0880'), sampleRateHz: 16000, realtime: true, trailingSilenceMs: 1500,
      });
      const row = page.getByTestId('live-stream');
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await row.getByTestId('live-surface').textContent(), 'vt');
      assert.equal(await row.getByTestId('live-languages').textContent(), 'en-US → es-ES');
      assert.match(await page.getByTestId('capacity-admitted').textContent() ?? '', /^1 of \d+ that fit the budget now$/);
      await bothWidths(page, 'console-live', 'live-streams');
      const result = await running;
      assert.deepEqual(result.events.filter((e) => e.kind === 'error'), []);
      await page.getByTestId('live-empty').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.deepEqual(await unlabelledControls(page), []);

      await page.getByTestId('console-nav-usage').click();
      const today = new Date().toISOString().slice(0, 10);
      const usage = await until('the day\'s utterances', () => api(server.apiKey, 'GET', '/api/ops/usage?days=14'),
        (r) => Number((r.body.days as Array<{ utterances: number }>).at(-1)?.utterances) > 0, UI_TIMEOUT_MS);
      const day = (usage.body.days as Array<{ date: string; minutes: number; final_p50_ms: number }>).at(-1);
      assert.equal(day?.date, today);
      assert.ok(Number(day?.minutes) > 0, 'the stream\'s minutes were counted');
      await page.reload();
      await page.getByTestId('usage-minutes-chart').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await page.locator(`[data-testid="usage-minutes-chart"] rect[data-date="${today}"]`).count(), 1, 'today has a bar');
      // What the minutes count, as the server counts them (docs/platform.md "Operations": every stream, by the day of its audio).
      assert.match(await page.getByTestId('usage-footnote').textContent() ?? '', /^Minutes are the audio every stream of this organization received \(live and test keys, in a session or opened with a key alone\), by the UTC day it was received;/);
      await bothWidths(page, 'console-usage');
      await page.locator('.usage-table-details summary').click();
      const todayRow = page.locator(`[data-testid="usage-row"][data-date="${today}"]`);
      assert.equal(await todayRow.getByTestId('usage-minutes').textContent(), String(day?.minutes));
      assert.equal(await todayRow.getByTestId('usage-final-p50').textContent(), `${day?.final_p50_ms} ms`);
      const billing = await page.getByTestId('billing-not-configured').textContent() ?? '';
      for (const setting of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_PRICE_PLANS']) assert.ok(billing.includes(setting), setting);
      assert.deepEqual(await unlabelledControls(page), []);
      await bothWidths(page, 'console-usage-table', 'usage-table');
      await recorder.snapshotStorage(page);
      assert.deepEqual(errors.filter((e) => !/status of 501/.test(e)), [], 'the page logs nothing but Chromium\'s note of the 501');
    } finally {
      await close();
    }
  });

  it('shows a webhook delivery that failed, then its retry delivered; and the engines with their health', { timeout: 90_000 }, async () => {
    const endpoint = await api(server.apiKey, 'POST', '/v1/webhook_endpoints', { url: hookUrl });
    assert.equal(endpoint.status, 200);
    // The receiver checks each delivery's signature with the organization's secret.
    receiver.secret = String(endpoint.body.secret);
    const session = await api(server.apiKey, 'POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'en', target_language: 'es' });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    await until('the failed first attempt to be recorded', () => api(server.apiKey, 'GET', '/v1/webhook_events?limit=5'),
      (r) => (r.body.data as Array<{ attempts: number }>).some((e) => e.attempts === 1), UI_TIMEOUT_MS);
    const { page, close } = await consolePage(PHONE);
    try {
      await signIn(page, server.apiKey, '/console/webhooks');
      assert.equal(await page.getByTestId('webhook-endpoint-url').textContent(), hookUrl);
      const event = page.locator('[data-testid="webhook-event"]', { hasText: 'session.created' });
      await event.waitFor();
      assert.equal(await event.getByTestId('webhook-status').textContent(), 'Retrying');
      assert.equal(await event.getByTestId('webhook-attempts').textContent(), '1');
      assert.notEqual(await event.getByTestId('webhook-next').textContent(), '—', 'the next retry is shown');
      // Retries are seconds apart: the time is to the second, and how soon.
      assert.match(await event.getByTestId('webhook-next').textContent() ?? '', /^(in \d+ (s|min)|due now) \(\d{1,2}:\d\d:\d\d( [AP]M)?\)$/);
      assert.match(await event.getByTestId('webhook-answers').textContent() ?? '', /^#1 500 \(\d+ ms\)$/);
      await bothWidths(page, 'console-webhooks-retrying', 'webhook-events');

      await receiver.waitFor((r) => r.some((w) => w.type === 'session.created'), 'the retry', 30_000);
      await until('the delivered retry on the page', async () => {
        await page.getByTestId('webhooks-refresh').click();
        return event.getByTestId('webhook-status').textContent();
      }, (t) => t === 'Delivered', UI_TIMEOUT_MS);
      assert.equal(await event.getByTestId('webhook-attempts').textContent(), '2');
      assert.equal(await event.getByTestId('webhook-next').textContent(), '—');
      assert.match(await event.getByTestId('webhook-answers').textContent() ?? '', /^#1 500 \(\d+ ms\), #2 200 \(\d+ ms\)$/);

      const engineIds = await page.getByTestId('engine-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-engine-id')));
      assert.deepEqual(engineIds, ['pocketsphinx', 'apertium', 'espeak-ng']);
      const espeak = page.locator('[data-testid="engine-row"][data-engine-id="espeak-ng"]');
      assert.ok(Number(await espeak.getByTestId('engine-requests').textContent()) > 0, 'the synthesizer\'s requests of the earlier stream');
      assert.match(await espeak.getByTestId('engine-latency').textContent() ?? '', /^mean \d+ ms/);
      assert.match(await page.getByTestId('engine-pairs').textContent() ?? '', /en-es/);
      assert.deepEqual(await unlabelledControls(page), []);
      await bothWidths(page, 'console-webhooks', 'engines');
      await recorder.snapshotStorage(page);
    } finally {
      await close();
    }
  });

  it('explains a member\'s refusal with the role rule', { timeout: 60_000 }, async () => {
    const member = await api(server.apiKey, 'POST', '/api/api-keys', { name: 'ops-member', role: 'member' });
    const memberKey = String(member.body.key);
    recorder.secrets.add(memberKey);
    const { page, close } = await consolePage(PHONE);
    try {
      await signIn(page, memberKey, '/console/usage');
      const banner = page.getByTestId('status-banner');
      await until('the refusal', () => banner.textContent(), (t) => /is not allowed for this key/.test(t ?? ''), UI_TIMEOUT_MS);
      const text = await banner.textContent() ?? '';
      assert.match(text, /This action requires the admin role or higher; this key's role is member/);
      assert.match(text, /the Live, Usage and billing, and Webhooks and engines pages, need the admin or owner role/);
      // No card keeps saying "Loading…" under the refusal: each says why it shows nothing.
      await until('the cards\' notes', () => page.locator('[data-not-loaded]').allTextContents(), (t) => t.length === 2, UI_TIMEOUT_MS);
      for (const note of await page.locator('[data-not-loaded]').allTextContents()) assert.match(note, /^Not shown: this key's role may not see it/);
      assert.equal(await page.locator('main [data-loading], main [aria-busy="true"]').count(), 0, 'nothing is left loading');
      // At 390 px every tab, the current one included, is on the screen (none scrolled out to the right).
      const tabs = await page.locator('.console-tab').evaluateAll((els) => els.map((e) => ({ text: e.textContent, right: Math.round(e.getBoundingClientRect().right) })));
      assert.equal(tabs.length, 6);
      assert.deepEqual(tabs.filter((t) => t.right > PHONE.width), [], 'every tab is within the phone\'s width');
      await bothWidths(page, 'console-ops-refused', 'status-banner');
      await recorder.snapshotStorage(page);
    } finally {
      await close();
    }
  });

  it('asks for the live streams every 2 s while the Live page is open, and stops when it is left', { timeout: 60_000 }, async () => {
    const { page, close } = await consolePage(LAPTOP_1280);
    const liveRequests = (): number => recorder.urls.filter((u) => u.endsWith('/api/ops/live')).length;
    try {
      // The page's clock is driven by the test: each poll is a timer the test runs.
      await page.clock.install();
      const before = liveRequests();
      await signIn(page, server.apiKey, '/console/live');
      await page.getByTestId('live-updated').waitFor();
      assert.equal(liveRequests() - before, 1, 'one request on opening');
      await page.clock.runFor(2000);
      await until('the second poll', liveRequests, (n) => n - before === 2, UI_TIMEOUT_MS);
      await page.getByTestId('console-nav-developer').click();
      await page.getByTestId('key-row').first().waitFor();
      const left = liveRequests();
      await page.clock.runFor(20_000);
      // Requests go out in order: once this later one is answered, a poll fired by the timers would have been seen.
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/api-keys'));
      await page.getByTestId('keys-refresh').click();
      await answered;
      assert.equal(liveRequests(), left, 'no poll after leaving the page');
    } finally {
      await close();
    }
  });

  it('never put a key in a URL, in localStorage or in the server log', () => {
    assert.ok(recorder.urls.some((u) => u.includes('/api/ops/live')) && recorder.urls.some((u) => u.includes('/v1/webhook_events')), 'requests were recorded');
    assert.ok(recorder.logLines.some((l) => l.includes('/api/ops/usage')), 'the server logged the requests');
    assert.ok(recorder.secrets.size >= 3);
    assert.ok(recorder.storage.length > 0, 'localStorage was read');
    assert.deepEqual(recorder.leaks(), []);
  });
});
