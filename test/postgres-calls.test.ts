import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCallsServer, WebhookReceiver, type CallsTestServer } from './calls-support.js';
import { runConcurrentIdempotency } from './calls-idempotency.js';
import { testPostgresUrl, testRedisUrl } from './helpers.js';

const redisUrl = testRedisUrl();

const pgUrl = testPostgresUrl();

describe('calls API on real Postgres: Idempotency-Key under concurrency', {
  skip: pgUrl ? false : 'no TOLK_TEST_DATABASE_URL (make test sets it when Postgres answers)',
}, () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer({ postgresUrl: pgUrl });
  });
  after(async () => server?.close());

  it('20 concurrent identical requests with one key create exactly one session; the other 19 are replays', async () => {
    const body = { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', metadata: { ticket_id: 't-1' } };
    const { ids, statuses, replayed, created } = await runConcurrentIdempotency(server, body, 20);
    assert.deepEqual([...new Set(statuses)], [201]);
    assert.equal(new Set(ids).size, 1);
    assert.equal(replayed, 19);
    assert.equal(created, 1, 'exactly one row was inserted');
  });

  it('a different body under the same key is 400 idempotency_mismatch, on Postgres too', async () => {
    const headers = { 'idempotency-key': `pg-${Date.now()}` };
    const first = await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en' }, headers);
    assert.equal(first.status, 201);
    const second = await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'fr' }, headers);
    assert.equal(second.status, 400);
    assert.equal(second.json.error.code, 'idempotency_mismatch');
  });
});

describe('calls webhooks through BullMQ (REDIS_URL set)', {
  skip: pgUrl && redisUrl ? false : 'needs TOLK_TEST_DATABASE_URL and TOLK_TEST_REDIS_URL (make test sets them when the services answer)',
}, () => {
  let server: CallsTestServer;
  const receiver = new WebhookReceiver();
  before(async () => {
    server = await startCallsServer({ postgresUrl: pgUrl, overrides: { redisUrl }, env: { TOLK_WEBHOOK_RETRY_BASE_MS: '50', TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } });
    receiver.secret = (await server.call('GET', '/v1/webhook_endpoints')).json.data[0].secret;
  });
  after(async () => {
    await server?.close();
    await receiver.close();
  });

  it('delivers session.created signed, after a failed first attempt retried as a delayed job', async () => {
    const url = await receiver.listen();
    receiver.failFirst(1);
    const s = (await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: url })).json;
    await receiver.waitFor((r) => r.some((e) => e.type === 'session.created' && e.body.data.id === s.id), 'session.created');
    assert.deepEqual(receiver.badSignatures, []);
    const event = (await server.call('GET', `/v1/webhook_events?session_id=${s.id}`)).json.data[0];
    assert.equal(event.status, 'delivered');
    assert.deepEqual(event.delivery_attempts.map((a: { status_code: number }) => a.status_code), [500, 200]);
  });
});
