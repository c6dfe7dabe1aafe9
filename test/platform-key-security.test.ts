import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import WebSocket from 'ws';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent, type StreamAudioResult } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { sessions } from '../src/db/schema.js';
import { getOrganizationAdmission, setOrganizationAdmission } from '../src/domain/admission.js';
import { authenticateApiKey, createApiKey } from '../src/domain/api-keys.js';
import { resolveSessionKey } from '../src/domain/session-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { librivoxSamples, startTestServer, testEngines, testPostgresUrl, testRedisUrl } from './helpers.js';

// The attacks of the key-security review, each reproduced against the API: privilege escalation on
// key routes, test keys acting as live ones, token-endpoint flooding, and credentials that outlived
// the rotation or deletion of their API key. `make test` runs this file on PGlite in memory, then
// on Postgres and Redis (where the cross-process revocation test runs too).

type Server = Awaited<ReturnType<typeof startTestServer>>;
type ErrorEvent = Extract<ReceivedEvent, { kind: 'error' }>;
interface Created { sessionId: string; streamUrl: string; streamToken: string }

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
const TOKEN_PATH = '/v2/sdk/voice-translation/session/token';
const errorsOf = (r: StreamAudioResult): ErrorEvent[] => r.events.filter((e): e is ErrorEvent => e.kind === 'error');
const platformError = (body: string): { code: string; message: string } => (JSON.parse(body) as { error: { code: string; message: string } }).error;

function call(server: RunningServer, method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) {
  return server.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
}

/** Creates a session over a real socket, so its streamUrl is the server's. */
async function createSession(server: RunningServer, apiKey: string): Promise<Created> {
  const res = await fetch(`${server.url}/api/sessions`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ source_lang: 'en', target_lang: 'es' }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Created;
}

function token(server: RunningServer, apiKey: string) {
  return server.app.inject({ method: 'GET', url: TOKEN_PATH, headers: { authorization: `api-key ${apiKey}` } });
}

/** Polls `check` until it holds (database writes that follow a stream's close). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens /vt, sends the config and returns the first event and the close code (it must be refused). */
async function openAndRefuse(url: string): Promise<{ error: Record<string, unknown> | undefined; code: number }> {
  const ws = new WebSocket(url);
  const events: string[] = [];
  ws.on('message', (d, isBinary) => void (isBinary || events.push(d.toString())));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.send(JSON.stringify({ config: CONFIG }));
  const timer = setTimeout(() => ws.terminate(), 20_000);
  const code = await closed;
  clearTimeout(timer);
  return { error: events[0] ? (JSON.parse(events[0]) as { error: Record<string, unknown> }).error : undefined, code };
}

/**
 * Streams speech in real time on each URL; once every stream has sent an event (they are live),
 * runs `revoke`. Returns each stream's result and what `revoke` returned.
 */
async function revokeWhileLive<T>(urls: string[], revoke: () => Promise<T>): Promise<{ results: StreamAudioResult[]; revoked: T }> {
  const samples = librivoxSamples('0870');
  const resolvers: Array<() => void> = [];
  const live = urls.map(() => new Promise<void>((resolve) => resolvers.push(resolve)));
  const streams = urls.map((url, i) => streamAudio({
    url, config: { ...CONFIG, transcript: { interim: true } }, samples, sampleRateHz: 16000, timeoutMs: 60_000,
    onEvent: () => resolvers[i]?.(),
  }));
  const revoked = Promise.all(live).then(revoke);
  const results = await Promise.all(streams);
  return { results, revoked: await revoked };
}

function assertRevoked(result: StreamAudioResult, change: RegExp): void {
  assert.equal(result.closeCode, 4401, `close ${result.closeCode} ${result.closeReason}`);
  const errors = errorsOf(result);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]?.code, 401);
  assert.equal(errors[0]?.reason, 'Unauthorized');
  assert.match(errors[0]?.description ?? '', change);
}

describe('key security: roles on key routes, test mode, token limits, revocation', () => {
  let server: Server;
  const keys = { owner: '', admin: '', admin2: '', member: '', member2: '' };
  const ids = { owner: '', admin: '', admin2: '', member: '', member2: '' };

  before(async () => {
    server = await startTestServer({ rateLimitPerMin: 10_000 });
    keys.owner = server.apiKey;
    ids.owner = (await authenticateApiKey(server.ctx.db, server.apiKey))?.keyId ?? '';
    for (const [name, role] of [['admin', 'admin'], ['admin2', 'admin'], ['member', 'member'], ['member2', 'member']] as const) {
      const made = await createApiKey(server.ctx.db, { organizationName: 'default', name, role });
      keys[name] = made.key;
      ids[name] = made.keyId;
    }
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('an admin cannot rotate or delete the owner key (403), nor a member another key; the keys still work', async () => {
    const attempts = [
      ['POST', `/api/api-keys/${ids.owner}/rotate`, keys.admin], ['DELETE', `/api/api-keys/${ids.owner}`, keys.admin],
      ['DELETE', `/api/api-keys/${ids.owner}`, keys.member], ['DELETE', `/api/api-keys/${ids.admin}`, keys.member],
      ['DELETE', `/api/api-keys/${ids.member2}`, keys.member], ['POST', `/api/api-keys/${ids.member}/rotate`, keys.member],
    ] as const;
    for (const [method, url, key] of attempts) {
      const res = await call(server, method, url, key);
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      assert.equal(platformError(res.body).code, 'FORBIDDEN');
      assert.ok(!/ip_(live|test)_/.test(res.body), 'no key in a refusal');
    }
    for (const key of Object.values(keys)) assert.equal((await call(server, 'GET', '/api/api-keys', key)).statusCode, 200);
  });

  it('an admin rotates keys up to its role (its own, another admin, a member); a member deletes its own key', async () => {
    const rotations: Array<[string, keyof typeof keys]> = [[ids.member2, 'member2'], [ids.admin2, 'admin2'], [ids.admin, 'admin']];
    for (const [id, name] of rotations) {
      const res = await call(server, 'POST', `/api/api-keys/${id}/rotate`, keys.admin);
      assert.equal(res.statusCode, 200, res.body);
      const rotated = res.json<{ id: string; key: string }>();
      assert.equal(rotated.id, id);
      assert.equal((await call(server, 'GET', '/api/api-keys', keys[name])).statusCode, 401, 'the old secret is dead');
      keys[name] = rotated.key;
    }
    const own = await call(server, 'DELETE', `/api/api-keys/${ids.member2}`, keys.member2);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal((await call(server, 'GET', '/api/api-keys', keys.member2)).statusCode, 401);
    const foreign = await createApiKey(server.ctx.db, { organizationName: 'elsewhere', name: 'x', role: 'member' });
    for (const key of [keys.admin, keys.member]) {
      assert.equal((await call(server, 'DELETE', `/api/api-keys/${foreign.keyId}`, key)).statusCode, 404, 'another organization\'s id is 404');
    }
  });

  it('an organization never loses its last (live) owner key: 409 CONFLICT', async () => {
    const solo = await createApiKey(server.ctx.db, { organizationName: 'solo', name: 'owner', role: 'owner' });
    const last = await call(server, 'DELETE', `/api/api-keys/${solo.keyId}`, solo.key);
    assert.equal(last.statusCode, 409, last.body);
    assert.equal(platformError(last.body).code, 'CONFLICT');
    assert.match(platformError(last.body).message, /last live owner key: create another live owner key first/);
    // A test owner key does not replace the live one; a second live owner does.
    const testOwner = await call(server, 'POST', '/api/api-keys', solo.key, { name: 'sandbox owner', role: 'owner', test: true });
    assert.equal(testOwner.statusCode, 200);
    assert.equal((await call(server, 'DELETE', `/api/api-keys/${solo.keyId}`, solo.key)).statusCode, 409);
    const second = (await call(server, 'POST', '/api/api-keys', solo.key, { name: 'second owner', role: 'owner' })).json<{ key: string }>();
    assert.equal((await call(server, 'DELETE', `/api/api-keys/${solo.keyId}`, second.key)).statusCode, 200);
    assert.equal((await call(server, 'GET', '/api/api-keys', second.key)).statusCode, 200);
    assert.equal((await call(server, 'GET', '/api/api-keys', solo.key)).statusCode, 401);
  });

  it('a test key creates only test keys and cannot act on live keys', async () => {
    const live = await createApiKey(server.ctx.db, { organizationName: 'sandbox', name: 'live owner', role: 'owner' });
    const test = await createApiKey(server.ctx.db, { organizationName: 'sandbox', name: 'test owner', role: 'owner', test: true });
    const asLive = await call(server, 'POST', '/api/api-keys', test.key, { name: 'escalate', role: 'owner', test: false });
    assert.equal(asLive.statusCode, 403, asLive.body);
    assert.match(platformError(asLive.body).message, /test keys only/);
    for (const payload of [{ name: 'default mode' }, { name: 'explicit', test: true }]) {
      const made = await call(server, 'POST', '/api/api-keys', test.key, payload);
      assert.equal(made.statusCode, 200, made.body);
      assert.match(made.json<{ key: string }>().key, /^ip_test_[0-9A-Za-z]{32}$/);
    }
    for (const [method, url] of [['POST', `/api/api-keys/${live.keyId}/rotate`], ['DELETE', `/api/api-keys/${live.keyId}`]] as const) {
      const res = await call(server, method, url, test.key);
      assert.equal(res.statusCode, 403, `${method}: ${res.body}`);
      assert.ok(!res.body.includes('ip_live_'));
    }
    assert.equal((await call(server, 'GET', '/api/api-keys', live.key)).statusCode, 200);
  });

  it('streams of a test key (session key or a session\'s streamToken) are not charged; a live key\'s are', async () => {
    const live = await createApiKey(server.ctx.db, { organizationName: 'metered', name: 'live', role: 'owner' });
    const test = await createApiKey(server.ctx.db, { organizationName: 'metered', name: 'test', role: 'owner', test: true });
    const startMs = 60_000;
    await setOrganizationAdmission(server.ctx.db, 'metered', { minutesBalanceMs: startMs });
    const samples = librivoxSamples('0880');
    const sentMs = (samples.length / 16000) * 1000;
    // Trailing silence ends the utterance (its translation comes back); none keeps the charge exact.
    const run = (url: string, trailingSilenceMs?: number) => streamAudio({ url, config: CONFIG, samples, sampleRateHz: 16000, realtime: false, trailingSilenceMs });

    const created = await createSession(server, test.key);
    const testRuns = [
      await run(vtUrl(server.url, await fetchSessionKey(server.url, test.key, 600))),
      await run(`${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`),
    ];
    for (const r of testRuns) {
      assert.deepEqual(errorsOf(r), []);
      assert.ok(r.events.some((e) => e.kind === 'translate' && e.text.length > 0), 'the test stream was translated');
    }
    const row = async () => (await server.ctx.db.select().from(sessions).where(eq(sessions.id, created.sessionId)))[0];
    await until('the test session\'s usage', async () => (await row())?.usageMs !== 0);
    assert.equal((await getOrganizationAdmission(server.ctx.db, 'metered')).minutesBalanceMs, startMs, 'test streams charged nothing');
    assert.equal((await row())?.mode, 'test', 'the session is marked as test usage');

    assert.deepEqual(errorsOf(await run(vtUrl(server.url, await fetchSessionKey(server.url, live.key, 600)), 0)), []);
    const balance = async () => (await getOrganizationAdmission(server.ctx.db, 'metered')).minutesBalanceMs ?? startMs;
    await until('the live stream\'s charge', async () => (await balance()) !== startMs);
    const chargedMs = startMs - (await balance());
    assert.ok(Math.abs(chargedMs - sentMs) <= 40, `charged ${chargedMs} ms; the live stream sent ${sentMs.toFixed(0)} ms`);
  });

  it('rotating a key ends its live streams (session key and the key itself: 401, close 4401); its session keys are refused', async () => {
    const made = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'streamer', role: 'admin' });
    const sessionKey = await fetchSessionKey(server.url, made.key, 600);
    const direct = `${server.url.replace(/^http/, 'ws')}/vt?authorization=${encodeURIComponent(`api-key ${made.key}`)}`;
    const { results, revoked } = await revokeWhileLive([vtUrl(server.url, sessionKey), direct], () => call(server, 'POST', `/api/api-keys/${made.keyId}/rotate`, keys.owner));
    assert.equal(revoked.statusCode, 200, revoked.body);
    for (const r of results) assertRevoked(r, new RegExp(`API key ${made.keyId} was rotated`));
    const again = await openAndRefuse(vtUrl(server.url, sessionKey));
    assert.deepEqual([again.error?.code, again.code], [401, 4401]);
    assert.equal(await resolveSessionKey(server.ctx.state, server.ctx.db, sessionKey), undefined);
    // The new secret issues working session keys.
    const fresh = await fetchSessionKey(server.url, revoked.json<{ key: string }>().key, 600);
    assert.equal((await resolveSessionKey(server.ctx.state, server.ctx.db, fresh))?.keyId, made.keyId);
  });

  it('deleting a key ends the live stream of a session\'s streamToken it issued (401, 4401); its tokens are refused', async () => {
    const made = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'doomed', role: 'admin' });
    const created = await createSession(server, made.key);
    const sessionKey = await fetchSessionKey(server.url, made.key, 600);
    const streamUrl = `${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`;
    const { results, revoked } = await revokeWhileLive([streamUrl], () => call(server, 'DELETE', `/api/api-keys/${made.keyId}`, keys.owner));
    assert.equal(revoked.statusCode, 200, revoked.body);
    assertRevoked(results[0] as StreamAudioResult, new RegExp(`API key ${made.keyId} was deleted`));
    for (const url of [streamUrl, vtUrl(server.url, sessionKey)]) {
      const again = await openAndRefuse(url);
      assert.deepEqual([again.error?.code, again.code], [401, 4401], url);
    }
    assert.equal(await resolveSessionKey(server.ctx.state, server.ctx.db, created.streamToken), undefined);
  });
});

describe('key security: the token endpoint is rate limited and capped per API key', () => {
  let limited: Server;
  let capped: Server;

  before(async () => {
    limited = await startTestServer({ rateLimitPerMin: 3 });
    capped = await startTestServer({ rateLimitPerMin: 10_000, maxSessionKeysPerKey: 2 });
  });
  after(async () => {
    await limited.close();
    await capped.close();
    await closeEngines(await testEngines());
  });

  it('past TOLK_RATE_LIMIT_PER_MIN requests a minute a key gets 429 in the spec 002 shape; other keys are unaffected', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await token(limited, limited.apiKey)).statusCode, 200, `request ${i + 1}`);
    const over = await token(limited, limited.apiKey);
    assert.equal(over.statusCode, 429);
    const { error } = over.json<{ error: { code: number; reason: string; description: string } }>();
    assert.deepEqual([error.code, error.reason], [429, 'Too Many Requests']);
    assert.match(error.description, /^Too many requests: at most 3 session key requests a minute per API key\. Retry after \d+ seconds\.$/);
    assert.ok(Number(over.headers['retry-after']) > 0, 'Retry-After');
    assert.equal(over.headers['x-ratelimit-limit'], '3');
    const other = await createApiKey(limited.ctx.db, { organizationName: 'default', name: 'other', role: 'member' });
    assert.equal((await token(limited, other.key)).statusCode, 200, 'the budget is per key');
  });

  it('past TOLK_MAX_SESSION_KEYS_PER_KEY live session keys, issuing is 429 (token endpoint and sessions) until the key is rotated', async () => {
    const made = await createApiKey(capped.ctx.db, { organizationName: 'default', name: 'hoarder', role: 'admin' });
    for (let i = 0; i < 2; i++) assert.equal((await token(capped, made.key)).statusCode, 200);
    const over = await token(capped, made.key);
    assert.equal(over.statusCode, 429);
    const { error } = over.json<{ error: { code: number; reason: string; description: string } }>();
    assert.deepEqual([error.code, error.reason], [429, 'Too Many Requests']);
    assert.match(error.description, /Too many live session keys: this API key already holds 2/);
    const session = await call(capped, 'POST', '/api/sessions', made.key, { source_lang: 'en', target_lang: 'es' });
    assert.equal(session.statusCode, 429, session.body);
    assert.equal(platformError(session.body).code, 'RATE_LIMITED');
    assert.equal((await call(capped, 'GET', '/api/sessions', made.key)).json<{ total: number }>().total, 0, 'no session was left without its token');
    assert.equal((await token(capped, capped.apiKey)).statusCode, 200, 'the cap is per key');
    const rotated = (await call(capped, 'POST', `/api/api-keys/${made.keyId}/rotate`, capped.apiKey)).json<{ key: string }>();
    assert.equal((await token(capped, rotated.key)).statusCode, 200, 'the rotated key\'s dead session keys no longer count');
  });
});

const services = testPostgresUrl() && testRedisUrl();
describe('key security: revocation spans processes (Postgres and Redis)', { skip: services ? false : 'Postgres and Redis not configured (TOLK_TEST_DATABASE_URL, TOLK_TEST_REDIS_URL)' }, () => {
  let first: Server;
  let second: RunningServer;

  before(async () => {
    first = await startTestServer({ rateLimitPerMin: 10_000 });
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', databaseUrl: first.ctx.config.databaseUrl, redisUrl: testRedisUrl() });
    second = await startServer(config, { engines: await testEngines(), bootstrapOwnerKey: false });
  });
  after(async () => {
    await second.close();
    await first.close();
    await closeEngines(await testEngines());
  });

  it('a stream on the second process ends (401, close 4401) when the first rotates its key', async () => {
    const made = await createApiKey(first.ctx.db, { organizationName: 'default', name: 'roaming', role: 'member' });
    const sessionKey = await fetchSessionKey(first.url, made.key, 600);
    const { results, revoked } = await revokeWhileLive([vtUrl(second.url, sessionKey)], () => call(first, 'POST', `/api/api-keys/${made.keyId}/rotate`, first.apiKey));
    assert.equal(revoked.statusCode, 200, revoked.body);
    assertRevoked(results[0] as StreamAudioResult, new RegExp(`API key ${made.keyId} was rotated`));
    const again = await openAndRefuse(vtUrl(second.url, sessionKey));
    assert.deepEqual([again.error?.code, again.code], [401, 4401]);
  });
});
