import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { loadConfig } from '../src/config.js';
import { closeEngines } from '../src/providers/index.js';
import { speechLikePcm } from '../src/providers/testing/index.js';
import { startTestServer, testEngines } from './helpers.js';
import { TestRoomClient } from './livekit-room-client.js';
import { liveKitSkipReason, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

/*
 * What every stream has, a LiveKit speaker included, since it runs on the stream session
 * (docs/architecture.md "Stream session"): the key behind it ends it, a silent microphone gives back
 * its slot and recognizer, and it counts in tolk_streams_active{surface="livekit"}.
 */

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The idle timeout of the server under test, in ms. */
const IDLE_MS = 2000;

/** `ms` of speech: 300 Hz bursts of 400 ms with 200 ms pauses (never a pause near IDLE_MS), 16 kHz. */
function speech(ms: number): Int16Array {
  const segments = Array.from({ length: Math.ceil(ms / 600) }, () => [{ speechMs: 400 }, { silenceMs: 200 }]).flat();
  return speechLikePcm(segments, { sampleRateHz: 16000 });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a LiveKit speaker has the guarantees of every stream (real livekit-server)', { skip: liveKitSkipReason() }, () => {
  let lk: TestLiveKitServer;
  let server: TestServer;
  const clients: TestRoomClient[] = [];

  before(async () => {
    lk = await startLiveKitServer();
    server = await startTestServer({
      liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true },
      streamLimits: { ...loadConfig({}).streamLimits, idleAudioTimeoutMs: IDLE_MS },
    });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    await closeEngines(await testEngines());
    await dispose();
    await lk?.close();
  });

  /** A sample of the Prometheus text, or undefined when absent. */
  async function metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  }

  async function call(method: string, path: string, body: unknown, key = server.apiKey): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  }

  /** A member key of the server's organization, a spec-000 session it created, and a client in its room. */
  async function memberInRoom(): Promise<{ keyId: string; client: TestRoomClient }> {
    const created = await call('POST', '/api/api-keys', { name: `member-${Date.now()}`, role: 'member' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const { id: keyId, key } = created.json as { id: string; key: string };
    const session = await call('POST', '/api/sessions', { source_lang: 'en-US', target_lang: 'es-ES', speaker_name: 'A' }, key);
    assert.equal(session.status, 200, JSON.stringify(session.json));
    const client = new TestRoomClient();
    clients.push(client);
    await client.connect(session.json.liveKitUrl, session.json.roomToken);
    await client.waitForInterpreter();
    return { keyId, client };
  }

  it('a speaker counts in tolk_streams_active{surface="livekit"}; a silent microphone gives back its slot after the idle timeout, and speaking opens a stream again', { timeout: 120_000 }, async () => {
    const { client } = await memberInRoom();
    const startedBefore = (await metric('tolk_streams_started_total{surface="livekit"}')) ?? 0;
    await client.speak([speech(1200)]);
    // Live from its opening; started once its worker took it.
    await until('the speaker stream started', async () => (await metric('tolk_streams_started_total{surface="livekit"}')) === startedBefore + 1);
    assert.equal(server.ctx.slots.held, 1);
    assert.equal(await metric('tolk_streams_active{surface="livekit"}'), 1);
    assert.equal(await metric('tolk_streams_active{surface="vt"}'), 0, 'not counted as /vt');

    // The track keeps sending frames, of silence: the stream is given back.
    await until('the slot given back', async () => server.ctx.slots.held === 0 && (await metric('tolk_streams_active{surface="livekit"}')) === 0, IDLE_MS + 15_000);
    assert.ok(!client.disconnected, 'the speaker stays in the room');

    await client.speak([speech(600)]);
    await until('a new stream on speech', async () => (await metric('tolk_streams_started_total{surface="livekit"}')) === startedBefore + 2);
    assert.equal(server.ctx.slots.held, 1);
    assert.equal(await metric('tolk_streams_active{surface="livekit"}'), 1);
    await client.close();
    await until('the stream closed with the track', () => server.ctx.slots.held === 0);
  });

  for (const change of ['deleted', 'rotated'] as const) {
    it(`the API key behind a room session ${change}: the speaker's stream ends while it speaks, and its speech opens no other`, { timeout: 120_000 }, async () => {
      const { keyId, client } = await memberInRoom();
      let speaking = true;
      const startedBefore = (await metric('tolk_streams_started_total{surface="livekit"}')) ?? 0;
      const spoken = client.speak([speech(9000)]).finally(() => (speaking = false));
      const started = startedBefore + 1;
      await until('the speaker stream started', async () => (await metric('tolk_streams_started_total{surface="livekit"}')) === started);
      assert.equal(server.ctx.slots.held, 1);
      assert.equal(await metric('tolk_streams_active{surface="livekit"}'), 1);

      const res = change === 'deleted' ? await call('DELETE', `/api/api-keys/${keyId}`, undefined) : await call('POST', `/api/api-keys/${keyId}/rotate`, undefined);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      await until('the speaker stream ended', async () => server.ctx.slots.held === 0 && (await metric('tolk_streams_active{surface="livekit"}')) === 0, 10_000);
      assert.ok(speaking, 'it ended while the speaker was still speaking (not by the idle timeout)');

      await spoken;
      assert.equal(server.ctx.slots.held, 0, 'the rest of the speech opened no stream');
      assert.equal(await metric('tolk_streams_started_total{surface="livekit"}'), started);
      await client.close();
    });
  }
});
