import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureOrganization } from '../src/domain/api-keys.js';
import {
  claimIdempotencyKey, completeIdempotencyKey, inspectIdempotencyKey, renewIdempotencyLease, requestHash,
} from '../src/domain/calls/idempotency.js';
import { startCallsServer, type CallsTestServer } from './calls-support.js';

const body = { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en' };
const ROUTE = 'POST /v1/sessions';

describe('calls surface: idempotency leases and per-organization caps', () => {
  let server: CallsTestServer;
  let organizationId: string;
  before(async () => {
    server = await startCallsServer({
      env: { TOLK_IDEMPOTENCY_LEASE_MS: '300', TOLK_MAX_IDEMPOTENCY_KEYS_PER_ORG: '6', TOLK_MAX_OPEN_CALL_SESSIONS_PER_ORG: '4' },
    });
    organizationId = (await ensureOrganization(server.ctx.db, 'default')).id;
  });
  after(async () => {
    await server.close();
  });

  it('a key claimed by a process that died is free once its lease runs out: the retry creates the session (not 409 for 24 h)', async () => {
    const key = `dead-${Date.now()}`;
    // The claim a killed process leaves: in progress, and nobody renews it.
    const dead = await claimIdempotencyKey(server.ctx.db, organizationId, key, ROUTE, requestHash(ROUTE, body), { leaseMs: 300 });
    assert.equal(dead.kind, 'owner');
    const retry = await server.call('POST', '/v1/sessions', body, { 'idempotency-key': key });
    assert.equal(retry.status, 201, retry.text);
    assert.match(retry.json.id, /^sess_/);
    const replay = await server.call('POST', '/v1/sessions', body, { 'idempotency-key': key });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.json.id, retry.json.id);
    await server.call('POST', `/v1/sessions/${retry.json.id}/end`);
  });

  it('a live owner renews its lease; a late owner whose lease was taken over does not overwrite the new response', async () => {
    const db = server.ctx.db;
    const key = `lease-${Date.now()}`;
    const hash = requestHash(ROUTE, body);
    const t0 = new Date();
    const first = await claimIdempotencyKey(db, organizationId, key, ROUTE, hash, { leaseMs: 1000, now: t0 });
    assert.equal(first.kind, 'owner');
    if (first.kind !== 'owner') return;
    assert.equal(await renewIdempotencyLease(db, first.lease, 60_000), true);
    const whileRenewed = await claimIdempotencyKey(db, organizationId, key, ROUTE, hash, { leaseMs: 1000, now: new Date(t0.getTime() + 5000) });
    assert.equal(whileRenewed.kind, 'in_progress', 'the renewed claim still holds 5 s later');
    const takeover = await claimIdempotencyKey(db, organizationId, key, ROUTE, hash, { leaseMs: 1000, now: new Date(Date.now() + 120_000) });
    assert.equal(takeover.kind, 'owner', 'a claim past its lease is taken over');
    if (takeover.kind !== 'owner') return;
    await completeIdempotencyKey(db, takeover.lease, { status: 201, body: { id: 'second' } });
    await completeIdempotencyKey(db, first.lease, { status: 201, body: { id: 'first' } });
    assert.equal(await renewIdempotencyLease(db, first.lease), false);
    const stored = await inspectIdempotencyKey(db, organizationId, key, ROUTE, hash);
    assert.deepEqual(stored, { kind: 'replay', response: { status: 201, body: { id: 'second' } } });
  });

  it('caps open sessions per organization (429 in the calls shape); ending one frees a place', async () => {
    const open: string[] = [];
    let refused: Awaited<ReturnType<CallsTestServer['call']>> | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await server.call('POST', '/v1/sessions', body);
      if (res.status === 201) open.push(res.json.id);
      else refused = res;
    }
    assert.equal(open.length, 4);
    assert.equal(refused?.status, 429);
    assert.equal(refused?.json.error.code, 'too_many_open_sessions');
    assert.equal(refused?.json.error.type, 'rate_limit_error');
    await server.call('POST', `/v1/sessions/${open[0]}/end`);
    assert.equal((await server.call('POST', '/v1/sessions', body)).status, 201);
    const other = await server.keyOf('another-org', 'owner');
    assert.equal((await server.call('POST', '/v1/sessions', body, { authorization: `Bearer ${other}` })).status, 201, 'other organizations are not affected');
  });

  it('caps the Idempotency-Keys an organization holds; known keys still replay', async () => {
    const org = await server.keyOf('keys-org', 'owner');
    const auth = { authorization: `Bearer ${org}` };
    const end = { reason: 'completed' };
    const s = await server.call('POST', '/v1/sessions', body, auth);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await server.call('POST', `/v1/sessions/${s.json.id}/end`, end, { ...auth, 'idempotency-key': `k-${i}` })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429]);
    const last = await server.call('POST', `/v1/sessions/${s.json.id}/end`, end, { ...auth, 'idempotency-key': 'k-7' });
    assert.equal(last.json.error.code, 'idempotency_keys_exhausted');
    const replay = await server.call('POST', `/v1/sessions/${s.json.id}/end`, end, { ...auth, 'idempotency-key': 'k-0' });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });
});
