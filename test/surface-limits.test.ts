import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCallsServer, type CallsTestServer } from './calls-support.js';

/** A JSON body over Fastify's 1 MiB limit. */
const HUGE = JSON.stringify({ mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', pad: 'x'.repeat(1_100_000) });

describe('limits every surface answers in its own shape', () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer({ env: { TOLK_CALLS_RATE_LIMIT_PER_MIN: '8' } });
  });
  after(async () => {
    await server.close();
  });

  const post = (path: string, body: string, authorization: string) => fetch(`${server.url}${path}`, {
    method: 'POST', body, headers: { authorization, 'content-type': 'application/json' },
  });

  it('a body over the limit is 413 on /api, /api/beta1 and /v1, not 400', async () => {
    const platform = await post('/api/sessions', HUGE, `Bearer ${server.apiKey}`);
    assert.equal(platform.status, 413);
    assert.equal(((await platform.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    const rooms = await post('/api/beta1/session', HUGE, `Bearer ${server.apiKey}`);
    assert.equal(rooms.status, 413);
    assert.equal(((await rooms.json()) as { error: { code: string } }).error.code, 'request_too_large');
    const other = await server.keyOf('big-bodies', 'owner');
    const calls = await post('/v1/sessions', HUGE, `Bearer ${other}`);
    assert.equal(calls.status, 413);
    const body = (await calls.json()) as { error: { code: string; type: string } };
    assert.deepEqual([body.error.code, body.error.type], ['request_too_large', 'invalid_request_error']);
  });

  it('POST /api/beta1/session without LiveKit is 503 not_configured naming the settings', async () => {
    const res = await post('/api/beta1/session', JSON.stringify({ source_language: 'en-US', target_language: 'es-ES' }), `Bearer ${server.apiKey}`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'not_configured');
    assert.match(body.error.message, /LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET/);
  });

  it('/v1 is rate limited per API key with X-RateLimit-* headers; other keys keep their budget', async () => {
    const key = await server.keyOf('limited', 'owner');
    const auth = { authorization: `Bearer ${key}` };
    const first = await server.call('GET', '/v1/webhook_endpoints', undefined, auth);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ratelimit-limit'), '8');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '7');
    let limited: Awaited<ReturnType<CallsTestServer['call']>> | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const res = await server.call('GET', '/v1/webhook_endpoints', undefined, auth);
      if (res.status === 429) limited = res;
    }
    assert.ok(limited, 'the ninth request is refused');
    assert.equal(limited.json.error.code, 'rate_limit_exceeded');
    assert.equal(limited.json.error.type, 'rate_limit_error');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const fresh = await server.keyOf('unlimited', 'owner');
    assert.equal((await server.call('GET', '/v1/webhook_endpoints', undefined, { authorization: `Bearer ${fresh}` })).status, 200);
  });
});
