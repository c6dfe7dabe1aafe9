/**
 * `GET /v1/sessions` (docs/calls.md "List sessions"): the organization's call sessions, newest
 * first, without their stream token; `limit` pages with `has_more`, `status` filters; bad values
 * are 400 naming the parameter; another organization's sessions are never listed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCallsServer, type CallsTestServer, type Json } from './calls-support.js';

describe('GET /v1/sessions', () => {
  let server: CallsTestServer;
  const made: Json[] = [];

  before(async () => {
    server = await startCallsServer();
    for (const [source, target] of [['de', 'en'], ['en', 'es'], ['fr', 'en']]) {
      const res = await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: source, target_language: target, recording: { enabled: true, channels: 'dual' } });
      assert.equal(res.status, 201, res.text);
      made.push(res.json);
    }
    assert.equal((await server.call('POST', `/v1/sessions/${made[0].id}/end`, { reason: 'completed' })).status, 200);
  });
  after(async () => server.close());

  it('lists the sessions newest first, each without its stream token', async () => {
    const res = await server.call('GET', '/v1/sessions');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.object, 'list');
    assert.equal(res.json.has_more, false);
    assert.deepEqual(res.json.data.map((s: Json) => s.id), made.map((s) => s.id).reverse());
    const ended = res.json.data[2];
    assert.deepEqual({ ...ended, created_at: typeof ended.created_at, duration: typeof ended.duration, started_at: ended.started_at === null ? null : 'set', ended_at: typeof ended.ended_at }, {
      id: made[0].id, object: 'session', status: 'ended', mode: 'bidirectional_translation', source_language: 'de', target_language: 'en',
      recording: { enabled: true, channels: 'dual' }, duration: 'number', created_at: 'string', started_at: null, ended_at: 'string', end_reason: 'completed',
    });
    assert.ok(!res.text.includes(made[1].stream.token), 'no stream token in the list');
  });

  it('pages with limit and has_more, filters by status', async () => {
    const page = await server.call('GET', '/v1/sessions?limit=2');
    assert.deepEqual([page.json.data.length, page.json.has_more], [2, true]);
    const ended = await server.call('GET', '/v1/sessions?status=ended');
    assert.deepEqual(ended.json.data.map((s: Json) => s.id), [made[0].id]);
    const created = await server.call('GET', '/v1/sessions?status=created');
    assert.deepEqual(created.json.data.map((s: Json) => s.id), [made[2].id, made[1].id]);
  });

  it('refuses a bad limit or status with 400 naming it, and lists nothing of another organization', async () => {
    for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=x', 'limit'], ['status=done', 'status']]) {
      const res = await server.call('GET', `/v1/sessions?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.json.error.param, param, res.text);
      assert.equal(res.json.error.type, 'validation_error');
    }
    const other = await server.keyOf('calls-list-other', 'owner');
    const res = await server.call('GET', '/v1/sessions', undefined, { authorization: `Bearer ${other}` });
    assert.deepEqual(res.json, { object: 'list', data: [], has_more: false });
  });
});
