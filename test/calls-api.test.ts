import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callSessions } from '../src/db/schema.js';
import { eq } from 'drizzle-orm';
import { startCallsServer, type CallsTestServer } from './calls-support.js';
import { runConcurrentIdempotency } from './calls-idempotency.js';

/** The spec 004 example request, as the vendor documents it. */
const SPEC_BODY = {
  mode: 'bidirectional_translation',
  source_language: 'de',
  target_language: 'en',
  provider: { type: 'twilio', phone_number: '+14155551234' },
  recording: { enabled: true, channels: 'dual' },
  metadata: { customer_id: 'cust_123', ticket_id: 'ticket_456' },
};

describe('calls API (spec 004) over HTTP, PGlite', () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer();
  });
  after(async () => server.close());

  it('POST /v1/sessions answers the spec\'s session object, field by field', async () => {
    const res = await server.call('POST', '/v1/sessions', SPEC_BODY);
    assert.equal(res.status, 201, res.text);
    const s = res.json;
    assert.match(s.id, /^sess_[0-9A-Za-z]{20}$/);
    assert.equal(s.object, 'session');
    assert.equal(s.status, 'created');
    assert.equal(s.mode, 'bidirectional_translation');
    assert.equal(s.source_language, 'de');
    assert.equal(s.target_language, 'en');
    const host = new URL(server.url).host;
    assert.equal(s.stream.url, `ws://${host}/v1/sessions/${s.id}/connect`);
    assert.match(s.stream.token, /^kst_live_[A-Za-z0-9_-]{32}$/);
    assert.match(s.stream.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ttlS = (Date.parse(s.stream.expires_at) - Date.parse(s.created_at)) / 1000;
    assert.ok(ttlS >= 3599 && ttlS <= 3601, `token lives 1 h, got ${ttlS} s`);
    assert.deepEqual(s.provider, { type: 'twilio', phone_number: '+14155551234', status: 'pending' });
    assert.deepEqual(s.recording, { enabled: true, channels: 'dual' });
    assert.deepEqual(s.metadata, SPEC_BODY.metadata);
    assert.match(s.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(res.headers.get('idempotent-replayed'), null);
    // The outbound call is placed through the telephony seam, after the answer.
    const deadline = Date.now() + 5000;
    let got = (await server.call('GET', `/v1/sessions/${s.id}`)).json;
    while (!got.provider.call_sid && Date.now() < deadline) got = (await server.call('GET', `/v1/sessions/${s.id}`)).json;
    assert.equal(server.telephony.placed.filter((p) => p.id === s.id).length, 1);
    assert.equal(server.telephony.placed.find((p) => p.id === s.id)?.provider?.phoneNumber, '+14155551234');
    assert.equal(got.status, 'connecting');
    assert.match(got.provider.call_sid, /^CA\d{32}$/);
  });

  it('a provider on a server without telephony is 422 telephony_not_configured', async () => {
    const bare = await startCallsServer({ telephony: false });
    try {
      const res = await bare.call('POST', '/v1/sessions', SPEC_BODY);
      assert.equal(res.status, 422);
      assert.equal(res.json.error.code, 'telephony_not_configured');
      assert.equal(res.json.error.param, 'provider');
      const without = await bare.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en' });
      assert.equal(without.status, 201);
    } finally {
      await bare.close();
    }
  });

  it('defaults: no provider, recording off with dual channels, metadata null', async () => {
    const res = await server.call('POST', '/v1/sessions', { mode: 'assistive_translation', source_language: 'es', target_language: 'en' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.provider, null);
    assert.deepEqual(res.json.recording, { enabled: false, channels: 'dual' });
    assert.equal(res.json.metadata, null);
    assert.equal(res.json.webhook_url, null);
  });

  it('GET, end (idempotent), GET again: created → ended, stream gone, end_reason kept', async () => {
    const noProvider = { ...SPEC_BODY, provider: undefined };
    const created = (await server.call('POST', '/v1/sessions', noProvider)).json;
    const got = await server.call('GET', `/v1/sessions/${created.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.status, 'created');
    assert.deepEqual(got.json.stream, created.stream);
    assert.deepEqual(got.json.transcript, { available: false, word_count: 0 });
    assert.equal(got.json.started_at, null);
    assert.equal(got.json.ended_at, null);
    const ended = await server.call('POST', `/v1/sessions/${created.id}/end`, { reason: 'agent_hangup' });
    assert.equal(ended.status, 200, ended.text);
    assert.equal(ended.json.status, 'ended');
    assert.equal(ended.json.end_reason, 'agent_hangup');
    assert.match(ended.json.ended_at, /Z$/);
    assert.equal(ended.json.stream, undefined);
    const again = await server.call('POST', `/v1/sessions/${created.id}/end`);
    assert.equal(again.status, 200);
    assert.equal(again.json.end_reason, 'agent_hangup', 'ending twice keeps the first end');
    const after = await server.call('GET', `/v1/sessions/${created.id}`);
    assert.equal(after.json.status, 'ended');
    const transcript = await server.call('GET', `/v1/sessions/${created.id}/transcript`);
    assert.equal(transcript.status, 200);
    assert.equal(transcript.json.object, 'transcript');
    assert.equal(transcript.json.status, 'complete');
    assert.deepEqual(transcript.json.segments, []);
    const recordings = await server.call('GET', `/v1/sessions/${created.id}/recordings`);
    assert.deepEqual(recordings.json, { object: 'list', data: [], session_id: created.id });
  });

  it('errors come in the vendor shape: missing field, bad mode, bad language, unknown parameter', async () => {
    const missing = await server.call('POST', '/v1/sessions', { source_language: 'de', target_language: 'en' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, { error: { code: 'missing_required_field', message: "The 'mode' field is required.", type: 'validation_error', param: 'mode' } });
    const mode = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, mode: 'karaoke' });
    assert.equal(mode.json.error.code, 'invalid_mode');
    assert.equal(mode.json.error.param, 'mode');
    const lang = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, target_language: 'not a language' });
    assert.equal(lang.json.error.code, 'invalid_language_code');
    assert.equal(lang.json.error.param, 'target_language');
    const unknown = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, colour: 'blue' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.param, 'colour');
    const channels = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, recording: { enabled: true, channels: 'quad' } });
    assert.equal(channels.json.error.param, 'recording.channels');
    const phone = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, provider: { type: 'twilio', phone_number: '555-1234' } });
    assert.equal(phone.json.error.param, 'provider.phone_number');
  });

  it('metadata: 50 keys and 500-character values pass; one more of either is 400 naming the key', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    assert.equal((await server.call('POST', '/v1/sessions', { ...SPEC_BODY, metadata: fifty })).status, 201);
    const long = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, metadata: { ok: 'x'.repeat(500) } });
    assert.equal(long.status, 201);
    const tooMany = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, metadata: { ...fifty, k50: 'v' } });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.error.param, 'metadata');
    assert.match(tooMany.json.error.message, /51 keys; at most 50/);
    const tooLong = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, metadata: { ticket_id: 'x'.repeat(501) } });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.error.param, 'metadata.ticket_id');
    assert.match(tooLong.json.error.message, /'ticket_id' has 501 characters/);
    const notString = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, metadata: { count: 3 } });
    assert.equal(notString.json.error.param, 'metadata.count');
  });

  it('authentication and tenancy: no key 401, another organization\'s session 404', async () => {
    const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SPEC_BODY) });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string; type: string } };
    assert.equal(body.error.type, 'authentication_error');
    const created = (await server.call('POST', '/v1/sessions', SPEC_BODY)).json;
    const other = await server.keyOf('someone-else');
    const peek = await server.call('GET', `/v1/sessions/${created.id}`, undefined, { authorization: `Bearer ${other}` });
    assert.equal(peek.status, 404);
    assert.equal(peek.json.error.code, 'session_not_found');
    const end = await server.call('POST', `/v1/sessions/${created.id}/end`, undefined, { authorization: `Bearer ${other}` });
    assert.equal(end.status, 404);
    const unknownRoute = await server.call('GET', '/v1/nothing-here');
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.json.error.type, 'not_found_error');
  });

  it('ai_agent and help_chat_voice without an LLM engine are 422 llm_not_configured', async () => {
    const res = await server.call('POST', '/v1/sessions', { mode: 'ai_agent', source_language: 'en', target_language: 'en', ai_agent: { system_prompt: 'Be brief.' } });
    assert.equal(res.status, 422);
    assert.equal(res.json.error.code, 'llm_not_configured');
    assert.match(res.json.error.message, /TOLK_LLM_BASE_URL/);
    const noAgent = await server.call('POST', '/v1/sessions', { mode: 'ai_agent', source_language: 'en', target_language: 'en' });
    assert.equal(noAgent.status, 400);
    assert.equal(noAgent.json.error.param, 'ai_agent');
  });

  it('Idempotency-Key: same body replays (Idempotent-Replayed: true), another body is 400 idempotency_mismatch', async () => {
    const headers = { 'idempotency-key': 'unique-request-12345' };
    const first = await server.call('POST', '/v1/sessions', SPEC_BODY, headers);
    assert.equal(first.status, 201);
    const reordered = { metadata: SPEC_BODY.metadata, recording: SPEC_BODY.recording, provider: SPEC_BODY.provider, target_language: 'en', source_language: 'de', mode: SPEC_BODY.mode };
    const second = await server.call('POST', '/v1/sessions', reordered, headers);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.text, first.text, 'the replay is the first response, byte for byte');
    const other = await server.call('POST', '/v1/sessions', { ...SPEC_BODY, target_language: 'fr' }, headers);
    assert.equal(other.status, 400);
    assert.equal(other.json.error.code, 'idempotency_mismatch');
    assert.equal(other.json.error.type, 'invalid_request_error');
    // Keys are per organization: another organization's request with the same key is its own.
    const otherOrg = await server.keyOf('org-b');
    const theirs = await server.call('POST', '/v1/sessions', SPEC_BODY, { ...headers, authorization: `Bearer ${otherOrg}` });
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.json.id, first.json.id);
    // A request that failed validation is replayed as the same 400.
    const bad = await server.call('POST', '/v1/sessions', { mode: 'x' }, { 'idempotency-key': 'bad-one' });
    const badAgain = await server.call('POST', '/v1/sessions', { mode: 'x' }, { 'idempotency-key': 'bad-one' });
    assert.equal(bad.status, 400);
    assert.equal(badAgain.status, 400);
    assert.equal(badAgain.headers.get('idempotent-replayed'), 'true');
  });

  it('20 concurrent identical requests with one key create exactly one session', async () => {
    const { ids, statuses, replayed } = await runConcurrentIdempotency(server, SPEC_BODY, 20);
    assert.deepEqual([...new Set(statuses)], [201]);
    assert.equal(new Set(ids).size, 1, `one session id for all, got ${new Set(ids).size}`);
    assert.equal(replayed, 19, 'every response but the first is a replay');
    const rows = await server.ctx.db.select().from(callSessions).where(eq(callSessions.id, ids[0] ?? ''));
    assert.equal(rows.length, 1);
  });
});
