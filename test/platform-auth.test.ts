import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { authenticateApiKey, createApiKey } from '../src/domain/api-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

describe('platform: authentication, roles, API keys, errors, health, OpenAPI (spec 000)', () => {
  let server: Server;
  let memberKey: string;
  let otherOrgKey: string;

  before(async () => {
    server = await startTestServer({ rateLimitPerMin: 1000 });
    memberKey = (await createApiKey(server.ctx.db, { organizationName: 'default', name: 'member', role: 'member' })).key;
    otherOrgKey = (await createApiKey(server.ctx.db, { organizationName: 'other', name: 'other', role: 'owner' })).key;
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  const get = (url: string, key?: string) => server.app.inject({ method: 'GET', url, headers: key ? bearer(key) : {} });

  it('answers the liveness probe without a key: status, package version, timestamp', async () => {
    const res = await get('/api/health');
    assert.equal(res.statusCode, 200);
    const body = res.json<{ status: string; version: string; timestamp: string }>();
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 60_000);
  });

  it('answers the readiness probe with its checks, and 503 when the database fails', async () => {
    const ok = await get('/api/health/uptime');
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json<{ checks: unknown }>().checks, { database: 'ok', environment: 'ok' });
    assert.equal(ok.json<{ status: string }>().status, 'healthy');
    const realDb = server.ctx.db;
    server.ctx.db = new Proxy(realDb, {
      get: (target, prop, receiver) => (prop === 'execute' ? () => Promise.reject(new Error('connection refused')) : Reflect.get(target, prop, receiver)),
    }) as Database;
    try {
      const down = await get('/api/health/uptime');
      assert.equal(down.statusCode, 503);
      assert.equal(down.json<{ status: string }>().status, 'unhealthy');
      assert.equal(down.json<{ checks: { database: string } }>().checks.database, 'error');
    } finally {
      server.ctx.db = realDb;
    }
    await server.ctx.db.execute(sql`select 1`);
  });

  it('rejects a missing, malformed, unknown or well-formed but wrong key with 401 UNAUTHORIZED', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-key' },
      { authorization: `Bearer ip_live_${'A'.repeat(32)}` },
      { authorization: `Bearer ${server.apiKey.replace('ip_live_', 'ip_test_')}` },
    ];
    for (const headers of cases) {
      const res = await server.app.inject({ method: 'GET', url: '/api/api-keys', headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      const body = res.json<{ error: { code: string; message: string } }>();
      assert.equal(body.error.code, 'UNAUTHORIZED');
      assert.ok(body.error.message.length > 0);
    }
  });

  it('lists keys masked, with created_at and last_used_at, and never the key itself', async () => {
    await get('/api/api-keys', memberKey); // sets last_used_at
    const res = await get('/api/api-keys', server.apiKey);
    assert.equal(res.statusCode, 200);
    const { keys } = res.json<{ keys: Array<{ id: string; name: string; key_prefix: string; created_at: string; last_used_at: string | null }> }>();
    assert.deepEqual(keys.map((k) => k.name).sort(), ['member', 'owner']);
    for (const k of keys) {
      assert.match(k.id, /^key_/);
      assert.equal(k.key_prefix, 'ip_live_••••');
      assert.ok(!Number.isNaN(Date.parse(k.created_at)));
      assert.ok(k.last_used_at && !Number.isNaN(Date.parse(k.last_used_at)), `${k.name}: last_used_at not kept`);
    }
    assert.ok(!res.body.includes(server.apiKey.slice(8)), 'a listing must not contain a key');
    assert.ok(!res.body.includes(memberKey.slice(8)), 'a listing must not contain a key');
  });

  it('tells keys apart by key_hint, their first 12 characters (ip_live_Ab3x…), never more', async () => {
    const res = await get('/api/api-keys', server.apiKey);
    const { keys } = res.json<{ keys: Array<{ name: string; key_hint: string }> }>();
    const hints = Object.fromEntries(keys.map((k) => [k.name, k.key_hint]));
    assert.deepEqual(hints, { owner: `${server.apiKey.slice(0, 12)}…`, member: `${memberKey.slice(0, 12)}…` });
  });

  it('creates a key shown once that works at once; validates the body', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: bearer(server.apiKey), payload: { name: 'Production Key' } });
    assert.equal(res.statusCode, 200);
    const created = res.json<{ id: string; name: string; key: string }>();
    assert.equal(created.name, 'Production Key');
    assert.match(created.key, /^ip_live_[0-9A-Za-z]{32}$/);
    assert.equal((await get('/api/api-keys', created.key)).statusCode, 200);

    const bad = await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: bearer(server.apiKey), payload: { name: '' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'BAD_REQUEST');
    const notJson = await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: { ...bearer(server.apiKey), 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json<{ error: { code: string } }>().error.code, 'BAD_REQUEST');
    const escalate = await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: bearer(memberKey), payload: { name: 'x', role: 'owner' } });
    assert.equal(escalate.statusCode, 403);
    assert.equal(escalate.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
  });

  it('rotates a key (owner/admin): same id and name, the old key is 401 at once, the new one works', async () => {
    const made = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'to-rotate', role: 'member' });
    const forbidden = await server.app.inject({ method: 'POST', url: `/api/api-keys/${made.keyId}/rotate`, headers: bearer(memberKey) });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');

    const res = await server.app.inject({ method: 'POST', url: `/api/api-keys/${made.keyId}/rotate`, headers: bearer(server.apiKey) });
    assert.equal(res.statusCode, 200);
    const rotated = res.json<{ id: string; name: string; key: string }>();
    assert.deepEqual({ id: rotated.id, name: rotated.name }, { id: made.keyId, name: 'to-rotate' });
    assert.notEqual(rotated.key, made.key);
    assert.equal((await get('/api/api-keys', made.key)).statusCode, 401);
    assert.equal((await get('/api/api-keys', rotated.key)).statusCode, 200);
  });

  it('deletes a key: requests with it are 401 immediately; unknown and other-org ids are 404', async () => {
    const made = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'to-delete', role: 'member' });
    assert.equal((await get('/api/api-keys', made.key)).statusCode, 200);
    const res = await server.app.inject({ method: 'DELETE', url: `/api/api-keys/${made.keyId}`, headers: bearer(server.apiKey) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { success: true });
    assert.equal((await get('/api/api-keys', made.key)).statusCode, 401);
    assert.equal(await authenticateApiKey(server.ctx.db, made.key), undefined);

    const again = await server.app.inject({ method: 'DELETE', url: `/api/api-keys/${made.keyId}`, headers: bearer(server.apiKey) });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
    const other = await authenticateApiKey(server.ctx.db, otherOrgKey);
    assert.ok(other);
    for (const [method, url] of [['DELETE', `/api/api-keys/${other.keyId}`], ['POST', `/api/api-keys/${other.keyId}/rotate`]] as const) {
      const foreign = await server.app.inject({ method, url, headers: bearer(server.apiKey) });
      assert.equal(foreign.statusCode, 404, `${method} ${url}`);
    }
    assert.equal((await get('/api/api-keys', otherOrgKey)).statusCode, 200, 'the other organization key still works');
  });

  it('answers unknown routes with 404 NOT_FOUND in the platform shape', async () => {
    const res = await get('/api/no-such-route', server.apiKey);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
  });

  it('publishes an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const res = await get('/api/openapi.json');
    assert.equal(res.statusCode, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    assert.match(doc.openapi, /^3\./);
    for (const path of ['/api/health', '/api/health/uptime', '/api/api-keys', '/api/api-keys/{id}/rotate', '/api/api-keys/{id}']) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    assert.ok(doc.paths['/api/api-keys']?.post?.requestBody, 'the create-key body schema is documented');
    const page = await server.app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger/i);
  });
});

describe('platform: rate limits per API key (spec 000 "Rate limits")', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer({ rateLimitPerMin: 5 });
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('sends X-RateLimit-* on every authenticated response and 429 RATE_LIMITED with Retry-After past the limit', async () => {
    const headers = bearer(server.apiKey);
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await server.app.inject({ method: 'GET', url: '/api/api-keys', headers });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-ratelimit-limit'], '5');
      remaining.push(Number(res.headers['x-ratelimit-remaining']));
      const reset = Number(res.headers['x-ratelimit-reset']);
      assert.ok(reset > 0 && reset <= 60, `x-ratelimit-reset ${reset}`);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const limited = await server.app.inject({ method: 'GET', url: '/api/api-keys', headers });
    assert.equal(limited.statusCode, 429);
    const body = limited.json<{ error: { code: string; message: string } }>();
    assert.equal(body.error.code, 'RATE_LIMITED');
    assert.match(body.error.message, /Retry after \d+ seconds/);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `retry-after ${String(limited.headers['retry-after'])}`);

    // The budget is per key: another key of the same organization is unaffected.
    const second = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'second', role: 'member' });
    const fresh = await server.app.inject({ method: 'GET', url: '/api/api-keys', headers: bearer(second.key) });
    assert.equal(fresh.statusCode, 200);
    assert.equal(fresh.headers['x-ratelimit-remaining'], '4');
    // Health probes are not rate limited.
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200);
  });
});
