/**
 * The console's Sessions pages (docs/console.md "Sessions") in Debian's Chromium against a real
 * server and database: a LibriVox recording streamed into a session over /vt, then found in the
 * list and read on its page (transcript, translation, latency, intelligence); a live session
 * revoked from its page (a member's refusal first, with the role rule) and seen to end; a call
 * session (spec 004) streamed with a recording, listed as a call, its transcript read and its
 * recording played from a blob: URL fetched with the key in the header; an empty
 * list, an unknown session (404), a key deleted while signed in (401) and an unreachable server
 * explained; "Start a
 * session" opening the room page with its room filled in; no key in any
 * URL, localStorage or server log line.
 *
 * Needs /usr/bin/chromium and web/dist (see test/browser.test.ts); skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { concatSamples } from '../src/audio/pcm.js';
import { writeWav } from '../src/audio/wav.js';
import { streamAudio, type ReceivedEvent, type StreamAudioResult } from '../src/client/vt-client.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { ARTIFACTS, browserPrerequisiteProblem, launchChromium, PHONE, until } from './browser-support.js';
import { KeyLeakRecorder, LAPTOP_1280, screenshotBothWidths, signInWithKeyboard, unlabelledControls } from './console-support.js';
import { StreamClient } from './calls-support.js';
import { librivoxRecordings, loadWav, startTestServer } from './helpers.js';

const UI_TIMEOUT_MS = 20_000;
const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
const missing = browserPrerequisiteProblem();
type Server = Awaited<ReturnType<typeof startTestServer>>;
interface Created { sessionId: string; participantId: string; streamUrl: string; streamToken: string }

/** The LibriVox recordings ending with `ids`, with 0.8 s pauses, and their reference words. */
function speech(ids: string[]): { samples: Int16Array; words: string[] } {
  const parts: Int16Array[] = [];
  const words: string[] = [];
  for (const id of ids) {
    const r = librivoxRecordings().find((x) => x.id.endsWith(id));
    assert.ok(r, id);
    const { samples, sampleRateHz } = loadWav(r.path);
    assert.equal(sampleRateHz, 16000);
    parts.push(samples, new Int16Array(12_800));
    words.push(...r.reference.toLowerCase().split(/\s+/));
  }
  return { samples: concatSamples(parts), words };
}

describe('console: sessions', { skip: missing ?? false, timeout: 300_000 }, () => {
  let server: Server;
  let browser: Browser;
  let memberKey: string;
  const recorder = new KeyLeakRecorder();

  const api = async (key: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${server.url}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const createSession = async (): Promise<Created> => {
    const made = await api(server.apiKey, 'POST', '/api/sessions', { source_lang: 'en', target_lang: 'es', speaker_name: 'Reader' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    return made.body as unknown as Created;
  };
  const stream = (s: Created, samples: Int16Array, onEvent?: (e: ReceivedEvent) => void): Promise<StreamAudioResult> => streamAudio({
    url: `${s.streamUrl}?authorization=${encodeURIComponent(`api-key ${s.streamToken}`)}`, config: CONFIG, samples, sampleRateHz: 16000, onEvent, timeoutMs: 240_000,
  });

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const silence = path.join(ARTIFACTS, 'fake-mic-silence-console-sessions.wav');
    fs.writeFileSync(silence, writeWav({ samples: new Int16Array(16000), sampleRateHz: 16000 }));
    [server, browser] = await Promise.all([
      startTestServer({ logLevel: 'info', rateLimitPerMin: 10_000 }, { logStream: recorder.logStream }),
      launchChromium(silence),
    ]);
    recorder.secrets.add(server.apiKey);
    const member = await api(server.apiKey, 'POST', '/api/api-keys', { name: 'ci-member', role: 'member' });
    memberKey = String(member.body.key);
    recorder.secrets.add(memberKey);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists a streamed LibriVox session and shows its transcript, translation, latency and intelligence', { timeout: 240_000 }, async () => {
    const session = await createSession();
    const { samples, words } = speech(['0880', '0890']);
    const result = await stream(session, samples);
    const finals = result.events.filter((e): e is Extract<ReceivedEvent, { kind: 'transcript' }> => e.kind === 'transcript' && e.final);
    assert.ok(finals.length > 0, 'the stream sent finals');
    const intelligence = await until('the session to complete', () => api(server.apiKey, 'GET', `/api/sessions/${session.sessionId}/intelligence`), (r) => r.status === 200, UI_TIMEOUT_MS);

    const { page, errors, close } = await recorder.open(browser, LAPTOP_1280);
    try {
      await signInWithKeyboard(page, server.url, server.apiKey);
      await page.getByTestId('console-nav-sessions').click();
      const row = page.locator(`[data-testid="session-row"][data-session-id="${session.sessionId}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-status'), 'completed');
      assert.equal(await row.getByTestId('session-status').textContent(), 'Ended');
      assert.equal(await row.getByTestId('session-languages').textContent(), 'en → es');
      assert.match(await row.getByTestId('session-duration').textContent() ?? '', /^\d+ s$|^\d+ min \d\d s$/);
      await page.getByTestId('sessions-status').selectOption('live');
      assert.equal(await row.count(), 0, 'the ended session is filtered out of Live');
      await page.getByTestId('sessions-status').selectOption('all');
      assert.deepEqual(await unlabelledControls(page), []);
      await screenshotBothWidths(page, 'console-sessions');

      // Keyboard: the row's link opens the session page.
      await row.getByTestId('session-link').focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('utterance').first().waitFor();
      assert.equal(new URL(page.url()).pathname, `/console/sessions/${session.sessionId}`);
      assert.equal(await page.getByTestId('session-state').getAttribute('data-status'), 'completed');
      const originals = (await page.getByTestId('utterance-original').allTextContents()).join(' ').toLowerCase().split(/\s+/);
      const right = originals.filter((w) => words.includes(w));
      assert.ok(right.length >= 3, `right words in the console's transcript: ${right.join(' ')}`);
      assert.deepEqual(originals.join(' '), finals.map((e) => e.text).join(' ').toLowerCase().split(/\s+/).join(' '), 'the transcript is what the stream received');
      const translations = await page.getByTestId('utterance-translation').allTextContents();
      assert.ok(translations.some((t) => t !== '—' && t.length > 0), `translations: ${translations.join(' | ')}`);
      const latencies = await page.getByTestId('utterance-latency').allTextContents();
      assert.ok(latencies.some((t) => /^\d+ ms$|^\d+\.\d s$/.test(t)), `latencies: ${latencies.join(' | ')}`);
      // At 1280 px a row's time ("03:06:58 AM") and latency ("334 ms") each stay on one line.
      const lineCounts = await page.locator('[data-testid="utterance"] td:first-child, [data-testid="utterance-latency"]').evaluateAll((cells) => cells.map((c) => {
        const range = c.ownerDocument.createRange();
        range.selectNodeContents(c);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      }));
      assert.deepEqual(lineCounts.filter((n) => n !== 1), [], `lines per time and latency cell: ${lineCounts.join(', ')}`);
      console.log(`# console transcript: ${latencies.length} utterances, ${right.length} right words, translation latencies ${latencies.join(', ')}; intelligence average ${String(intelligence.body.averageLatencyMs)} ms`);

      const body = intelligence.body;
      await page.getByTestId('intelligence-sentiment').waitFor();
      assert.equal(await page.getByTestId('intelligence-sentiment').textContent(), `${String(body.overallSentiment)} (${Number(body.sentimentScore).toFixed(2)})`);
      assert.equal(await page.getByTestId('intelligence-urgency').textContent(), body.urgencyLevel);
      assert.match(await page.getByTestId('intelligence-latency').textContent() ?? '', new RegExp(`over ${String(body.transcriptCount)} transcripts$`));
      const topics = body.extractedTopics as string[];
      if (topics.length > 0) assert.deepEqual(await page.getByTestId('intelligence-topics').locator('li').allTextContents(), topics);
      assert.equal(await page.getByTestId('session-ended-note').count(), 1, 'an ended session offers no revoke or escalate');
      assert.deepEqual(await unlabelledControls(page), []);
      await screenshotBothWidths(page, 'console-session', 'session-transcript');
      await recorder.snapshotStorage(page);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it('escalates a live session, revokes it from its page (a member is refused with the role rule) and sees it end', { timeout: 180_000 }, async () => {
    const session = await createSession();
    const { samples } = speech(['0930']);
    let streaming: Promise<StreamAudioResult> | undefined;
    const firstFinal = new Promise<void>((resolve) => {
      // Speech, then 90 s of silence that keeps the stream live until it is revoked.
      streaming = stream(session, concatSamples([samples, new Int16Array(16000 * 90)]), (e) => e.kind === 'transcript' && e.final && resolve());
    });
    await firstFinal;
    const member = await recorder.open(browser, PHONE);
    const owner = await recorder.open(browser, LAPTOP_1280);
    try {
      await signInWithKeyboard(member.page, server.url, memberKey, `/console/sessions/${session.sessionId}`);
      await member.page.getByTestId('revoke-participant').click();
      await member.page.getByTestId('confirm-ok').click();
      const banner = member.page.getByTestId('status-banner');
      const refusal = await until('the refusal', () => banner.textContent(), (t) => /not allowed/.test(t ?? ''), UI_TIMEOUT_MS);
      assert.match(refusal ?? '', /Revoking the participant is not allowed for this key/);
      assert.match(refusal ?? '', /requires the admin role or higher; this key's role is member/);

      await signInWithKeyboard(owner.page, server.url, server.apiKey, '/console/sessions');
      const row = owner.page.locator(`[data-testid="session-row"][data-session-id="${session.sessionId}"]`);
      await row.waitFor();
      assert.equal(await row.getByTestId('session-status').textContent(), 'Live');
      assert.equal(await row.getByTestId('session-participants').textContent(), '1');
      await row.getByTestId('session-link').click();
      await owner.page.getByTestId('utterance').first().waitFor();
      assert.equal(await owner.page.getByTestId('session-state').getAttribute('data-status'), 'active');
      assert.match(await owner.page.getByTestId('intelligence-pending').textContent() ?? '', /once the session has ended/);
      await screenshotBothWidths(owner.page, 'console-session-live', 'session-actions');
      await owner.page.setViewportSize(LAPTOP_1280);
      await owner.page.getByTestId('escalate-reason').fill('medical terms need a human');
      await owner.page.keyboard.press('Enter');
      const escalated = await until('the escalation', () => owner.page.getByTestId('status-banner').textContent(), (t) => /Escalated/.test(t ?? ''), UI_TIMEOUT_MS);
      assert.match(escalated ?? '', /The session is number 1 in the human-interpreter queue\./);
      await owner.page.getByTestId('revoke-participant').click();
      assert.equal(await owner.page.evaluate<string | undefined>('document.activeElement?.dataset.testid'), 'confirm-cancel', 'the confirmation starts on Cancel');
      await owner.page.getByTestId('confirm-ok').click();
      await until('the session to end', () => owner.page.getByTestId('session-state').getAttribute('data-status'), (s) => s === 'completed', UI_TIMEOUT_MS);
      assert.equal(await owner.page.getByTestId('session-state').textContent(), 'Ended');
      assert.notEqual(await owner.page.getByTestId('session-ended').textContent(), 'Not yet');
      const result = await streaming;
      assert.equal(result?.closeCode, 4403, 'the stream was closed as revoked');
      await recorder.snapshotStorage(owner.page);
    } finally {
      await member.close();
      await owner.close();
      await streaming;
    }
  });

  it('lists a call, reads its transcript and plays its recording fetched with the key in the header', { timeout: 120_000 }, async () => {
    const made = await api(server.apiKey, 'POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'en', target_language: 'es', recording: { enabled: true, channels: 'dual' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const call = made.body as { id: string; stream: { url: string; token: string } };
    const customer = await StreamClient.connect(call.stream.url, { authorization: `Bearer ${call.stream.token}` });
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    const { samples } = speech(['0930']);
    const padded = concatSamples([samples, new Int16Array(16_000)]);
    for (let i = 0; i < padded.length; i += 1600) {
      const block = padded.subarray(i, i + 1600);
      customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64'), encoding: 'pcm_16', sample_rate: 16000, channels: 1 });
    }
    await until('a final of the call', () => api(server.apiKey, 'GET', `/v1/sessions/${call.id}/transcript`), (r) => Array.isArray(r.body.segments) && r.body.segments.length > 0, 60_000);
    customer.send({ type: 'session.end' });
    await customer.waitClosed();
    const recordings = await until('the recording', () => api(server.apiKey, 'GET', `/v1/sessions/${call.id}/recordings`), (r) => (r.body.data as Array<{ status: string }>).some((x) => x.status === 'ready'), UI_TIMEOUT_MS);
    const ready = (recordings.body.data as Array<{ id: string; status: string }>).filter((x) => x.status === 'ready');

    const { page, errors, close } = await recorder.open(browser, LAPTOP_1280);
    try {
      await signInWithKeyboard(page, server.url, server.apiKey, '/console/sessions');
      await page.getByTestId('sessions-kind').selectOption('call');
      const row = page.locator(`[data-testid="session-row"][data-session-id="${call.id}"]`);
      await row.waitFor();
      assert.equal(await row.getByTestId('session-kind').textContent(), 'Call');
      assert.equal(await page.locator('[data-testid="session-row"][data-kind="session"]').count(), 0, 'the kind filter shows calls only');
      await row.getByTestId('session-link').click();
      await page.getByTestId('utterance').first().waitFor();
      assert.equal(new URL(page.url()).search, '?kind=call');
      assert.equal(await page.getByTestId('session-state').getAttribute('data-status'), 'completed');
      const said = (await page.getByTestId('utterance-original').allTextContents()).join(' ');
      assert.ok(said.split(/\s+/).filter(Boolean).length >= 3, `the call's transcript: ${said}`);
      const audio = page.getByTestId('recording-audio');
      await audio.first().waitFor(); // the recordings are listed once the session and transcript are shown
      assert.equal(await audio.count(), ready.length);
      const src = await until('the recording\'s blob URL', () => audio.first().getAttribute('src'), (v) => Boolean(v), UI_TIMEOUT_MS);
      assert.match(src ?? '', /^blob:/);
      const durationS = await until('the recording to load', () => audio.first().evaluate((e) => (e as unknown as { duration: number }).duration), (d) => Number.isFinite(d) && d > 1, UI_TIMEOUT_MS);
      assert.ok(durationS > 1, `recording of ${durationS} s`);
      assert.ok(recorder.urls.some((u) => u.endsWith(`/v1/recordings/${ready[0]?.id ?? ''}/audio`)), 'the WAV was fetched from the recording endpoint');
      assert.match(await page.getByTestId('intelligence-not-for-calls').textContent() ?? '', /computed for translation sessions/);
      assert.deepEqual(await unlabelledControls(page), []);
      await screenshotBothWidths(page, 'console-call', 'session-recordings');
      await recorder.snapshotStorage(page);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it('explains an empty list, an unknown session (404) and a key deleted while signed in (401)', { timeout: 90_000 }, async () => {
    const fresh = await createApiKey(server.ctx.db, { organizationName: 'console-empty-org', name: 'fresh-owner', role: 'owner' });
    const spare = await createApiKey(server.ctx.db, { organizationName: 'console-empty-org', name: 'spare-owner', role: 'owner' });
    recorder.secrets.add(fresh.key).add(spare.key);
    const { page, close } = await recorder.open(browser, PHONE);
    try {
      await signInWithKeyboard(page, server.url, fresh.key, '/console/sessions');
      assert.match(await page.getByTestId('sessions-empty').textContent() ?? '', /^No sessions yet\. A session appears here when it is created/);

      // Start a session: the room page opens with the new session's room filled in, the token in memory only.
      await page.getByTestId('start-session').click();
      await until('the room page', () => new URL(page.url()).pathname, (p) => p === '/room', UI_TIMEOUT_MS);
      const listed = await api(fresh.key, 'GET', '/api/sessions');
      assert.equal((listed.body.sessions as unknown[]).length, 1, 'the session was created');
      assert.equal(await page.getByTestId('room-url').inputValue(), server.ctx.config.liveKit.url);
      const roomToken = await page.getByTestId('room-token').inputValue();
      assert.match(roomToken, /^ey/);
      recorder.secrets.add(roomToken);
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.dataset.testid'), 'join-room', 'Join has the focus');
      await page.goto(`${server.url}/console/sessions/sess_nope`);
      assert.match(await page.getByTestId('session-not-found').textContent() ?? '', /No such session: 'sess_nope'\. No session or call sess_nope is visible to this key/);
      assert.equal(await page.getByTestId('console-nav-sessions').getAttribute('aria-current'), 'page');
      assert.equal((await api(spare.key, 'DELETE', `/api/api-keys/${fresh.keyId}`)).status, 200);
      await page.getByTestId('back-to-sessions').click();
      const reason = await page.getByTestId('console-signed-out-reason').textContent();
      assert.match(reason ?? '', /^The server refused the key you signed in with: Invalid API key/);
      await recorder.snapshotStorage(page);
    } finally {
      await close();
    }
  });

  it('says when the server cannot be reached, with Retry', { timeout: 60_000 }, async () => {
    const other = await startTestServer({ logLevel: 'info', rateLimitPerMin: 10_000 }, { logStream: recorder.logStream });
    recorder.secrets.add(other.apiKey);
    let running = true;
    const { page, close } = await recorder.open(browser, PHONE);
    try {
      await signInWithKeyboard(page, other.url, other.apiKey, '/console/sessions');
      await page.getByTestId('sessions-empty').waitFor();
      running = false;
      await other.close();
      await page.getByTestId('sessions-refresh').click();
      const banner = page.getByTestId('status-banner');
      await until('the unreachable banner', () => banner.textContent(), (t) => /Cannot reach the Tolk server/.test(t ?? ''), UI_TIMEOUT_MS);
      assert.match(await banner.textContent() ?? '', /Loading the sessions did not reach the server/);
      assert.equal(await page.getByRole('button', { name: 'Retry' }).count(), 1);
      await recorder.snapshotStorage(page);
    } finally {
      await close();
      if (running) await other.close();
    }
  });

  it('never put a key in a URL, in localStorage or in the server log', () => {
    assert.ok(recorder.urls.some((u) => u.includes('/api/sessions')), 'the session requests were recorded');
    assert.ok(recorder.logLines.some((l) => l.includes('/api/sessions')), 'the server logged them');
    assert.ok(recorder.secrets.size >= 4);
    recorder.assertNoKeyLeaked();
  });
});
