import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { RoomServiceClient, TokenVerifier } from 'livekit-server-sdk';
import { closeEngines } from '../src/providers/index.js';
import { freePort, startTestServer, testEngines } from './helpers.js';
import { TestRoomClient } from './livekit-room-client.js';
import { liveKitSkipReason, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(url: string, body: unknown, key: string): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Json, headers: res.headers };
}

describe('LiveKit rooms under load and revocation (issue 24) on a real livekit-server', { skip: liveKitSkipReason() }, () => {
  let lk: TestLiveKitServer;
  let server: TestServer;
  let api: RoomServiceClient;
  const clients: TestRoomClient[] = [];
  /** The spec-000 session of the first test, whose participant the second revokes. */
  let sessionA: { sessionId: string; participantId: string; roomToken: string } | undefined;

  before(async () => {
    // LiveKit posts its webhooks to Tolk; the poll is off, so only a webhook brings an interpreter in.
    const port = await freePort();
    lk = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${port}/api/livekit/webhook`] });
    server = await startTestServer({
      port, redisUrl: undefined, maxInterpreters: 2, roomPollMs: 3_600_000,
      liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true },
    });
    api = new RoomServiceClient(lk.httpUrl, lk.apiKey, lk.apiSecret);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    await closeEngines(await testEngines());
    await dispose();
    await lk?.close();
  });

  async function join(url: string, token: string): Promise<TestRoomClient> {
    const client = new TestRoomClient();
    clients.push(client);
    await client.connect(url, token);
    return client;
  }

  it('sessions answer before any interpreter joins; the first participant brings it in (LiveKit webhook); beyond TOLK_MAX_INTERPRETERS a new session is refused with 429', { timeout: 90_000 }, async () => {
    const a = await post(`${server.url}/api/sessions`, { source_lang: 'en-US', target_lang: 'es-ES', speaker_name: 'A' }, server.apiKey);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.deepEqual(await api.listParticipants(a.json.sessionId), [], 'the room exists, with nobody in it yet');
    const b = await post(`${server.url}/api/beta1/session`, { source_language: 'en-US', target_language: 'es-ES' }, server.apiKey);
    assert.equal(b.status, 200, JSON.stringify(b.json));
    assert.deepEqual(await api.listParticipants(b.json.room_name), []);

    // Two rooms wait for their interpreter: the cap of 2 is reached on both surfaces.
    const full001 = await post(`${server.url}/api/beta1/session`, { source_language: 'en-US', target_language: 'es-ES' }, server.apiKey);
    assert.equal(full001.status, 429);
    assert.equal(full001.json.error.code, 'rate_limit_exceeded');
    assert.match(full001.json.error.message, /maximum of 2 LiveKit interpreters \(TOLK_MAX_INTERPRETERS\)/);
    assert.ok(Number(full001.headers.get('retry-after')) > 0);
    const full000 = await post(`${server.url}/api/sessions`, { source_lang: 'en-US', target_lang: 'es-ES' }, server.apiKey);
    assert.equal(full000.status, 429);
    assert.match(JSON.stringify(full000.json), /TOLK_MAX_INTERPRETERS/);

    sessionA = { sessionId: a.json.sessionId, participantId: a.json.participantId, roomToken: a.json.roomToken };
    const client = await join(a.json.liveKitUrl, a.json.roomToken);
    await client.waitForInterpreter();
    assert.deepEqual((await api.listParticipants(a.json.sessionId)).map((p) => p.identity).sort(), [a.json.participantId, 'tolk-interpreter'].sort());
    assert.deepEqual(server.ctx.interpreters.list().map((i) => i.roomName), [a.json.sessionId]);

    const forged = await fetch(`${server.url}/api/livekit/webhook`, {
      method: 'POST', headers: { 'content-type': 'application/webhook+json', authorization: 'not-a-signature' },
      body: JSON.stringify({ event: 'participant_joined', room: { name: b.json.room_name }, participant: { identity: 'x' } }),
    });
    assert.equal(forged.status, 401);
    assert.equal(((await forged.json()) as Json).error.code, 'invalid_signature');
    assert.equal(server.ctx.interpreters.list().length, 1, 'an unsigned webhook brings no interpreter');
  });

  it('a revoked participant who rejoins with its room token is removed again, every time; room tokens live TOLK_ROOM_TOKEN_TTL_S', { timeout: 90_000 }, async () => {
    assert.ok(sessionA, 'the first test created the session');
    const { sessionId, participantId, roomToken } = sessionA;
    const claims = await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(roomToken);
    assert.equal((claims.exp ?? 0) - (claims.nbf ?? 0), 900, 'the room token lives TOLK_ROOM_TOKEN_TTL_S (900 s), not 24 h');
    const first = clients[0] as TestRoomClient;
    const res = await fetch(`${server.url}/api/sessions/${sessionId}/revoke/${participantId}`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` } });
    assert.equal(res.status, 200);
    await first.waitFor('the revoked participant to be disconnected', () => first.disconnected, 10_000);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const again = await join(lk.url, roomToken);
      await again.waitFor(`rejoin ${attempt} to be removed by the server`, () => again.disconnected, 10_000);
      await again.close();
      assert.ok(!(await api.listParticipants(sessionId)).some((p) => p.identity === participantId), 'LiveKit no longer lists the revoked identity');
    }
  });
});

describe('a native error of @livekit/rtc-node outside any call does not end the server', () => {
  /** A Tolk with LiveKit configured (fake engines, in memory) in a child process, then `body`. */
  const script = (body: string): string => `
    import { createRequire } from 'node:module';
    import { loadConfig } from './src/config.ts';
    import { startServer } from './src/server.ts';
    import { createFakeEngines } from './src/providers/testing/index.ts';
    const config = loadConfig({ LIVEKIT_URL: 'ws://127.0.0.1:9' }, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' });
    const server = await startServer(config, { engines: createFakeEngines() });
    const health = async () => (await fetch(server.url + '/api/health')).status;
    ${body}`;
  const run = (body: string) => spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script(body)], { encoding: 'utf8', timeout: 90_000 });

  it('"trying to drop an invalid handle" at garbage collection is logged and the server keeps answering', () => {
    const out = run(`
      const bindings = createRequire(import.meta.url)('@livekit/rtc-ffi-bindings');
      (() => { new bindings.FfiHandle(987654321n); })();
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 200));
      globalThis.gc();
      console.log('health after the native error: ' + (await health()));
      await server.close();`);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /LiveKit native error outside any room call \(kept running\)/);
    assert.match(out.stdout, /trying to drop an invalid handle/);
    assert.match(out.stdout, /health after the native error: 200/);
  });

  it('any other uncaught exception still ends the process with code 1', () => {
    const out = run(`setTimeout(() => { throw new Error('a bug'); }, 10); setTimeout(() => console.log('still running'), 1000);`);
    assert.equal(out.status, 1);
    assert.match(out.stdout + out.stderr, /a bug/);
    assert.doesNotMatch(out.stdout, /still running/);
  });
});
