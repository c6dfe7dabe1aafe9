import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { fetchSessionKey, streamAudio } from '../src/client/vt-client.js';
import { createApiKey, ensureOrganization } from '../src/domain/api-keys.js';
import { createSession } from '../src/domain/sessions.js';
import { closeEngines } from '../src/providers/index.js';
import { librivoxSamples, startTestServer, testEngines } from './helpers.js';
import { Peer } from './room-peer.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** A config whose voice is invalid: a key that authenticates gets 400 "Invalid voice", one that does not gets 401. */
const PROBE_CONFIG = { source_language: 'en-US', target_language: 'es-ES', voice: 'robot' };

/** Opens /vt with `headers`, sends `config` and returns the error event's code and the close code. */
async function refusal(url: string, headers: Record<string, string>, config: Record<string, unknown>): Promise<{ code: number; close: number }> {
  const ws = new WebSocket(url, { headers });
  let code = 0;
  ws.on('message', (d, isBinary) => {
    if (!isBinary && code === 0) code = Number((JSON.parse(d.toString()) as { error?: { code?: number } }).error?.code ?? -1);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.send(JSON.stringify({ config }));
  const timer = setTimeout(() => ws.terminate(), 10_000);
  const close = await closed;
  clearTimeout(timer);
  return { code, close };
}

describe('what an independent client sends: header auth on /vt, empty JSON bodies, caps, 501s, speech on request', () => {
  let server: Server;
  let sessionKey: string;
  before(async () => {
    server = await startTestServer();
    sessionKey = await fetchSessionKey(server.url, server.apiKey, 600);
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  const vt = (): string => `${server.url.replace('http', 'ws')}/vt`;

  it('/vt takes the key from the Authorization header (api-key or Bearer, session or API key) and from ?Authorization= in any case', async () => {
    const accepted: Array<{ name: string; url: string; headers: Record<string, string> }> = [
      { name: 'api-key <session key> header', url: vt(), headers: { authorization: `api-key ${sessionKey}` } },
      { name: 'Bearer <session key> header', url: vt(), headers: { authorization: `Bearer ${sessionKey}` } },
      { name: 'Bearer <API key> header', url: vt(), headers: { authorization: `Bearer ${server.apiKey}` } },
      { name: '?Authorization= (capitalized)', url: `${vt()}?Authorization=${encodeURIComponent(`api-key ${sessionKey}`)}`, headers: {} },
      { name: 'query wins over a wrong header', url: `${vt()}?authorization=${encodeURIComponent(`api-key ${sessionKey}`)}`, headers: { authorization: 'Bearer vt_wrong' } },
    ];
    for (const c of accepted) assert.deepEqual(await refusal(c.url, c.headers, PROBE_CONFIG), { code: 400, close: 4400 }, c.name);
    // The header wins over the config's api_key; a wrong header is not rescued by a right api_key.
    assert.deepEqual(await refusal(vt(), { authorization: `Bearer ${sessionKey}` }, { ...PROBE_CONFIG, api_key: 'ip_live_wrong' }), { code: 400, close: 4400 });
    assert.deepEqual(await refusal(vt(), { authorization: 'Bearer vt_wrong' }, { ...PROBE_CONFIG, api_key: sessionKey }), { code: 401, close: 4401 });
    assert.deepEqual(await refusal(vt(), {}, PROBE_CONFIG), { code: 401, close: 4401 });

    // And a whole stream authenticated by the header alone.
    const result = await streamAudio({
      url: vt(), headers: { authorization: `Bearer ${sessionKey}` }, samples: librivoxSamples('0880'), sampleRateHz: 16000,
      config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' },
    });
    const final = result.events.find((e) => e.kind === 'transcript' && e.final);
    assert.match(final?.kind === 'transcript' ? final.text : '', /young man/);
    assert.ok(result.events.some((e) => e.kind === 'translate' && e.text.length > 0));
  });

  it('an empty body with Content-Type: application/json is {} on routes that take no body or an optional one', async () => {
    const created = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'to rotate', role: 'member' });
    const doomed = await createApiKey(server.ctx.db, { organizationName: 'default', name: 'to delete', role: 'member' });
    const session = await createSession(server.ctx.db, {
      organizationId: created.organizationId, createdByKeyId: created.keyId, sourceLang: 'en', targetLang: 'es', speakerName: 'Speaker', creatorRole: 'owner',
    });
    const term = await fetch(`${server.url}/api/glossary`, {
      method: 'POST', headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_term: 'copay', target_term: 'copago', language_pair: 'en-es' }),
    }).then(async (r) => (await r.json()) as { id: string });
    const calls: Array<[string, string]> = [
      ['POST', `/api/api-keys/${created.keyId}/rotate`],
      ['DELETE', `/api/api-keys/${doomed.keyId}`],
      ['POST', `/api/sessions/${session.session.id}/escalate`],
      ['DELETE', `/api/glossary/${term.id}`],
    ];
    for (const [method, path] of calls) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' }, body: '' });
      assert.equal(res.status, 200, `${method} ${path}: ${await res.text()}`);
    }
    // A body that is present and malformed is still refused.
    const malformed = await fetch(`${server.url}/api/sessions/${session.session.id}/escalate`, {
      method: 'POST', headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' }, body: '{"reason":',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
  });

  it('GET /api/sessions caps limit at 100 instead of refusing it', async () => {
    const key = await createApiKey(server.ctx.db, { organizationName: 'many-sessions', role: 'owner' });
    for (let i = 0; i < 101; i++) {
      await createSession(server.ctx.db, { organizationId: key.organizationId, createdByKeyId: key.keyId, sourceLang: 'en', targetLang: 'es', speakerName: 'Speaker', creatorRole: 'owner' });
    }
    const res = await fetch(`${server.url}/api/sessions?limit=1000`, { headers: { authorization: `Bearer ${key.key}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { sessions: unknown[]; total: number };
    assert.equal(body.total, 101);
    assert.equal(body.sessions.length, 100);
  });

  it('documented but unbuilt routes answer 501 NOT_IMPLEMENTED saying what is missing (404 stays for wrong URLs)', async () => {
    const auth = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
    // phone/start looks the session up first (an unknown one is 404): it needs one of the key's organization.
    const { session: own } = await createSession(server.ctx.db, {
      organizationId: (await ensureOrganization(server.ctx.db, 'default')).id, createdByKeyId: 'key_x', sourceLang: 'en', targetLang: 'es', speakerName: 'x', creatorRole: 'owner',
    });
    const routes: Array<{ method: string; path: string; headers: Record<string, string>; body?: string; missing: RegExp }> = [
      { method: 'POST', path: `/api/sessions/${own.id}/phone/start`, headers: auth, body: JSON.stringify({ phoneNumber: '+14155550199' }), missing: /telephony|phone/i },
      { method: 'GET', path: '/api/billing/invoices', headers: { authorization: auth.authorization }, missing: /Stripe|billing/i },
      { method: 'POST', path: '/api/webhooks/stripe', headers: { 'content-type': 'application/json' }, body: '{}', missing: /Stripe/ },
      { method: 'POST', path: '/api/webhooks/vapi', headers: { 'content-type': 'application/json' }, body: '{}', missing: /Vapi/ },
    ];
    for (const r of routes) {
      const res = await fetch(`${server.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 501, r.path);
      assert.equal(body.error.code, 'NOT_IMPLEMENTED', r.path);
      assert.match(body.error.message, r.missing, r.path);
    }
    const member = await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' });
    assert.equal((await fetch(`${server.url}/api/billing/invoices`, { headers: { authorization: `Bearer ${member.key}` } })).status, 403);
    assert.equal((await fetch(`${server.url}/api/billing/invoices`)).status, 401);
    assert.equal((await fetch(`${server.url}/api/billing/nope`, { headers: { authorization: auth.authorization } })).status, 404);
  });

  it('/api/v1/ws/single: the nested config form works, and speech comes only to a client that asks for it', async () => {
    const ws = server.url.replace('http', 'ws');
    const quiet = new Peer(`${ws}/api/v1/ws/single`);
    const loud = new Peer(`${ws}/api/v1/ws/single`);
    await Promise.all([quiet.opened, loud.opened]);
    quiet.send({ type: 'config', config: { source_language: 'en-US', target_language: 'es', audio: { sample_rate: 16000 } } });
    loud.send({ language: 'en-US', translate_language: 'es', speech: true });
    await Promise.all([quiet.speak(librivoxSamples('0880')), loud.speak(librivoxSamples('0880'))]);
    await quiet.until('a final', () => quiet.finals().length >= 1);
    await loud.until('speech', () => loud.audioBytes > 16_000);
    assert.match(String(quiet.finals()[0]?.translation), /\S/);
    assert.equal(quiet.audioBytes, 0, 'speech sent to a client that did not ask for it');
    assert.ok(!quiet.json.some((m) => 'error' in m), JSON.stringify(quiet.json));
    await Promise.all([quiet.close(), loud.close()]);
  });

  it('rooms: speech only to participants whose URL asks for it (speech=true)', async () => {
    const res = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    const { conversation_id: id } = (await res.json()) as { conversation_id: string };
    const speaker = await Peer.join(server.url, id, 'en-US');
    const loud = await Peer.join(server.url, id, 'es', true);
    const quiet = await Peer.join(server.url, id, 'es', false);
    await speaker.speak(librivoxSamples('0880'));
    await quiet.until('a final', () => quiet.finals().length >= 1);
    await loud.until('speech', () => loud.audioBytes > 16_000);
    assert.equal(quiet.audioBytes, 0, 'speech sent to a participant that did not ask for it');
    await Promise.all([speaker.close(), loud.close(), quiet.close()]);
  });
});
