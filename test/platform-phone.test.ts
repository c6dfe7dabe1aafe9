import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import type { VapiSettings } from '../src/config.js';
import { phoneCalls, utterances } from '../src/db/schema.js';
import { createApiKey, ensureOrganization } from '../src/domain/api-keys.js';
import { createSession, markSessionActive, markSessionCompleted } from '../src/domain/sessions.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';
import { sendServerMessage, startFakeVapi, type FakeVapi } from './fakes/vapi-server.js';

// Spec 000 `POST /api/sessions/:id/phone/start` and `POST /api/webhooks/vapi` (docs/phone.md)
// against a stand-in for Vapi's API written from its reference; requests asserted field by field.

type Server = Awaited<ReturnType<typeof startTestServer>>;
type ErrorBody = { error: { code: string; message: string } };
const VAPI_KEY = 'vapi-private-key-0001';
const WEBHOOK_SECRET = 'vapi-webhook-secret-0123456789';

describe('phone calls through Vapi (spec 000)', () => {
  let server: Server;
  let vapi: FakeVapi;
  let orgId: string;
  let adminKey: string;
  let memberKey: string;
  let webhookUrl: string;

  const session = async (status: 'created' | 'active' | 'completed') => {
    const { session: s } = await createSession(server.ctx.db, { organizationId: orgId, createdByKeyId: 'key_x', sourceLang: 'en', targetLang: 'es', speakerName: 'Dr. Smith', creatorRole: 'owner' });
    if (status !== 'created') await markSessionActive(server.ctx.db, s.id);
    if (status === 'completed') await markSessionCompleted(server.ctx.db, s.id);
    return s.id;
  };
  const start = (sessionId: string, body: unknown, key = adminKey) => fetch(`${server.url}/api/sessions/${sessionId}/phone/start`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const callRow = async (id: string) => (await server.ctx.db.select().from(phoneCalls).where(eq(phoneCalls.id, id)))[0];

  before(async () => {
    vapi = await startFakeVapi(VAPI_KEY);
    const settings: VapiSettings = { apiKey: VAPI_KEY, assistantId: 'asst_default', phoneNumberId: 'pn_tolk', apiBase: vapi.url, webhookSecret: WEBHOOK_SECRET };
    server = await startTestServer({ vapi: settings });
    orgId = (await ensureOrganization(server.ctx.db, 'default')).id;
    adminKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'admin' })).key;
    memberKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' })).key;
    webhookUrl = `${server.url}/api/webhooks/vapi`;
  });
  after(async () => {
    await server?.close();
    await vapi?.close();
    await closeEngines(await testEngines());
  });

  it('starts a call: POST /call with the documented body, answers {callId, status: "initiated"} and stores the call', async () => {
    const id = await session('active');
    const res = await start(id, { phoneNumber: '+14155550199' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { callId: string; status: string };
    assert.equal(vapi.requests.length, 1);
    const [req] = vapi.requests;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.path, '/call');
    assert.equal(req?.headers.authorization, `Bearer ${VAPI_KEY}`);
    assert.match(String(req?.headers['content-type']), /^application\/json/);
    assert.deepEqual(req?.body, {
      assistantId: 'asst_default', phoneNumberId: 'pn_tolk', customer: { number: '+14155550199' },
      assistantOverrides: { variableValues: { tolkSessionId: id, sourceLanguage: 'en', targetLanguage: 'es' } },
    });
    assert.equal(req?.status, 201);
    assert.deepEqual(body, { callId: (req?.response as { id: string }).id, status: 'initiated' });
    const row = await callRow(body.callId);
    assert.equal(row?.sessionId, id);
    assert.equal(row?.organizationId, orgId);
    assert.equal(row?.provider, 'vapi');
    assert.equal(row?.phoneNumber, '+14155550199');
    assert.equal(row?.assistantId, 'asst_default');
    assert.equal(row?.status, 'initiated');
  });

  it('assistantId overrides VAPI_ASSISTANT_ID for one call', async () => {
    vapi.requests.length = 0;
    const res = await start(await session('active'), { phoneNumber: '+442071838750', assistantId: 'asst_override' });
    assert.equal(res.status, 200);
    assert.equal((vapi.requests[0]?.body as { assistantId: string }).assistantId, 'asst_override');
    assert.equal((await callRow(((await res.json()) as { callId: string }).callId))?.assistantId, 'asst_override');
  });

  it('auth and role: 401 without a key, 403 for a member; nothing is dialed', async () => {
    vapi.requests.length = 0;
    const id = await session('active');
    const none = await fetch(`${server.url}/api/sessions/${id}/phone/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phoneNumber":"+14155550199"}' });
    assert.equal(none.status, 401);
    const member = await start(id, { phoneNumber: '+14155550199' }, memberKey);
    assert.equal(member.status, 403);
    assert.equal(((await member.json()) as ErrorBody).error.code, 'FORBIDDEN');
    assert.equal(vapi.requests.length, 0);
  });

  it('bad input: numbers that are not E.164 and a missing number are 400 naming the field; nothing is dialed', async () => {
    vapi.requests.length = 0;
    const id = await session('active');
    for (const body of [{ phoneNumber: '4155550199' }, { phoneNumber: '+0123456' }, { phoneNumber: '+1234567890123456' }, { phoneNumber: '+1 415 555 0199' }, {}, { phoneNumber: '+14155550199', assistantId: '' }]) {
      const res = await start(id, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.code, 'BAD_REQUEST');
      assert.match(err.error.message, /body\.(phoneNumber|assistantId)/, JSON.stringify(body));
    }
    assert.equal(vapi.requests.length, 0);
  });

  it('404 for an unknown session or another organization\'s; 409 for a session that is not active', async () => {
    vapi.requests.length = 0;
    assert.equal((await start('sess_unknown', { phoneNumber: '+14155550199' })).status, 404);
    const other = (await ensureOrganization(server.ctx.db, 'other')).id;
    const { session: foreign } = await createSession(server.ctx.db, { organizationId: other, createdByKeyId: 'k', sourceLang: 'en', targetLang: 'es', speakerName: 'x', creatorRole: 'owner' });
    await markSessionActive(server.ctx.db, foreign.id);
    assert.equal((await start(foreign.id, { phoneNumber: '+14155550199' })).status, 404);
    for (const status of ['created', 'completed'] as const) {
      const res = await start(await session(status), { phoneNumber: '+14155550199' });
      assert.equal(res.status, 409);
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.code, 'CONFLICT');
      assert.match(err.error.message, new RegExp(`is ${status}: a phone call joins an active session only`));
    }
    assert.equal(vapi.requests.length, 0);
  });

  it('a number Vapi refuses is 422 with Vapi\'s reason; Vapi unavailable is 500; no call is stored', async () => {
    const id = await session('active');
    vapi.refuseNumber('+15005550001');
    const refused = await start(id, { phoneNumber: '+15005550001' });
    assert.equal(refused.status, 422);
    assert.match(((await refused.json()) as ErrorBody).error.message, /^The call was refused: Vapi answered 400: Couldn't Create Twilio Call/);
    vapi.failNext(1);
    const down = await start(id, { phoneNumber: '+14155550100' });
    assert.equal(down.status, 500);
    assert.match(((await down.json()) as ErrorBody).error.message, /^The call could not be placed: Vapi answered 503/);
    assert.equal((await server.ctx.db.select().from(phoneCalls).where(eq(phoneCalls.sessionId, id))).length, 0);
  });

  it('webhook: a missing or wrong x-vapi-secret is 401, a body that is not JSON 400; nothing changes', async () => {
    const id = await session('active');
    const { callId } = (await (await start(id, { phoneNumber: '+14155550199' })).json()) as { callId: string };
    for (const secret of [undefined, 'wrong-secret', `${WEBHOOK_SECRET}x`]) {
      const res = await sendServerMessage(webhookUrl, secret, { type: 'status-update', status: 'ended', call: { id: callId } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'UNAUTHORIZED');
    }
    const notJson = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-vapi-secret': WEBHOOK_SECRET }, body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.equal((await callRow(callId))?.status, 'initiated');
  });

  it('webhook: Vapi\'s status-update, transcript and end-of-call-report are stored with the session and shown in its intelligence', async () => {
    const id = await session('active');
    const { callId } = (await (await start(id, { phoneNumber: '+14155550199' })).json()) as { callId: string };
    const send = async (m: Record<string, unknown>) => {
      const res = await sendServerMessage(webhookUrl, WEBHOOK_SECRET, { call: { id: callId }, ...m });
      assert.equal(res.status, 200);
      return ((await res.json()) as { result: string }).result;
    };
    assert.equal(await send({ type: 'status-update', status: 'ringing' }), 'updated');
    assert.equal((await callRow(callId))?.status, 'ringing');
    await send({ type: 'status-update', status: 'in-progress' });
    assert.ok((await callRow(callId))?.startedAt);
    await send({ type: 'transcript', role: 'user', transcriptType: 'partial', transcript: 'I need' });
    await send({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'I need to reschedule my appointment by Friday.' });
    await send({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Of course, I will move it.' });
    assert.equal(await send({ type: 'hang' }), 'updated');
    assert.equal(await send({ type: 'speech-update', status: 'started', role: 'user' }), 'ignored');
    await send({ type: 'end-of-call-report', endedReason: 'customer-ended-call', artifact: { messages: [{ role: 'user', message: 'not stored twice', time: Date.now() }] } });
    await send({ type: 'status-update', status: 'ringing' }); // late and out of order: an ended call stays ended
    const row = await callRow(callId);
    assert.equal(row?.status, 'ended');
    assert.equal(row?.endedReason, 'customer-ended-call');
    assert.ok(row?.endedAt);
    const stored = await server.ctx.db.select().from(utterances).where(and(eq(utterances.sessionId, id)));
    assert.deepEqual(stored.map((u) => [u.participantId, u.speakerName, u.text]).sort(), [
      [`phone:${callId}`, '+14155550199', 'I need to reschedule my appointment by Friday.'],
      [`phone:${callId}:assistant`, 'Phone assistant', 'Of course, I will move it.'],
    ]);
    await markSessionCompleted(server.ctx.db, id);
    const intel = await fetch(`${server.url}/api/sessions/${id}/intelligence`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(intel.status, 200);
    const body = (await intel.json()) as { transcriptCount: number; speakerCount: number; actionItems: string[]; phoneCalls: Array<Record<string, unknown>> };
    assert.equal(body.transcriptCount, 2);
    assert.equal(body.speakerCount, 2);
    assert.deepEqual(body.actionItems, ['I need to reschedule my appointment by Friday.', 'Of course, I will move it.']);
    assert.equal(body.phoneCalls.length, 1);
    assert.deepEqual({ ...body.phoneCalls[0], startedAt: undefined, endedAt: undefined, durationSeconds: undefined }, {
      callId, provider: 'vapi', phoneNumber: '+14155550199', status: 'ended', endedReason: 'customer-ended-call',
      startedAt: undefined, endedAt: undefined, durationSeconds: undefined,
    });
    assert.equal(typeof body.phoneCalls[0]?.startedAt, 'string');
  });

  it('webhook: spec 000\'s call-started / call-ended, an end-of-call report\'s transcript when no live one came, an unknown call', async () => {
    const id = await session('active');
    const { callId } = (await (await start(id, { phoneNumber: '+14155550123' })).json()) as { callId: string };
    const send = (m: Record<string, unknown>) => sendServerMessage(webhookUrl, WEBHOOK_SECRET, m);
    await send({ type: 'call-started', call: { id: callId }, startedAt: '2026-04-11T14:00:00.000Z' });
    assert.equal((await callRow(callId))?.status, 'in-progress');
    await send({
      type: 'call-ended', call: { id: callId }, endedReason: 'assistant-ended-call', endedAt: '2026-04-11T14:02:05.000Z',
    });
    await send({
      type: 'end-of-call-report', call: { id: callId }, endedReason: 'assistant-ended-call',
      artifact: { messages: [
        { role: 'system', message: 'You are an interpreter.', time: 1 },
        { role: 'bot', message: 'Hola, le llamo de la clínica.', time: Date.parse('2026-04-11T14:00:02Z'), secondsFromStart: 2, duration: 1800 },
        { role: 'user', message: 'Sí, dígame.', time: Date.parse('2026-04-11T14:00:05Z'), secondsFromStart: 5, duration: 900 },
      ] },
    });
    const row = await callRow(callId);
    assert.equal(row?.status, 'ended');
    assert.equal(row?.startedAt?.toISOString(), '2026-04-11T14:00:00.000Z');
    assert.equal(row?.endedAt?.toISOString(), '2026-04-11T14:02:05.000Z');
    const stored = await server.ctx.db.select().from(utterances).where(eq(utterances.sessionId, id));
    assert.deepEqual(stored.map((u) => [u.participantId, u.text, u.durationMs]).sort(), [
      [`phone:${callId}`, 'Sí, dígame.', 900],
      [`phone:${callId}:assistant`, 'Hola, le llamo de la clínica.', 1800],
    ]);
    const unknown = await send({ type: 'status-update', status: 'ended', call: { id: 'call_unknown' } });
    assert.deepEqual(await unknown.json(), { received: true, result: 'unknown-call' });
  });
});

describe('phone calls without Vapi configured', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('phone/start answers 501 naming every missing setting of Vapi and of Twilio (403 for a member first); the Vapi webhook is 501', async () => {
    const member = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' })).key;
    const orgId = (await ensureOrganization(server.ctx.db, 'default')).id;
    const { session: s } = await createSession(server.ctx.db, { organizationId: orgId, createdByKeyId: 'key_x', sourceLang: 'en', targetLang: 'es', speakerName: 'x', creatorRole: 'owner' });
    const post = (key: string, id = s.id) => fetch(`${server.url}/api/sessions/${id}/phone/start`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"phoneNumber":"+14155550199"}',
    });
    assert.equal((await post(member)).status, 403);
    const res = await post(server.apiKey);
    assert.equal(res.status, 501);
    const err = (await res.json()) as ErrorBody;
    assert.equal(err.error.code, 'NOT_IMPLEMENTED');
    assert.equal(err.error.message, 'Outbound phone calls are not configured on this server: set VAPI_API_KEY, VAPI_ASSISTANT_ID, VAPI_PHONE_NUMBER_ID (Vapi), '
      + 'or TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER and TOLK_PUBLIC_URL (Twilio: TWILIO_ACCOUNT_SID is not set; TWILIO_AUTH_TOKEN is not set; '
      + 'TWILIO_PHONE_NUMBER is not set; TOLK_PUBLIC_URL is not set) (docs/phone.md)');
    const unknown = await post(server.apiKey, 'sess_unknown');
    assert.equal(unknown.status, 404, 'an unknown session is 404 before the missing settings');
    const foreignOrg = (await ensureOrganization(server.ctx.db, 'someone-else')).id;
    const { session: foreign } = await createSession(server.ctx.db, { organizationId: foreignOrg, createdByKeyId: 'k', sourceLang: 'en', targetLang: 'es', speakerName: 'x', creatorRole: 'owner' });
    assert.equal((await post(server.apiKey, foreign.id)).status, 404, "another organization's session is 404 too");
    const hook = await sendServerMessage(`${server.url}/api/webhooks/vapi`, 'anything-at-all-123', { type: 'status-update', status: 'ended', call: { id: 'x' } });
    assert.equal(hook.status, 501);
    assert.match(((await hook.json()) as ErrorBody).error.message, /VAPI_WEBHOOK_SECRET/);
  });
});
