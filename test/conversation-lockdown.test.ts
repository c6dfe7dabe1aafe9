/**
 * Lock-down of the web app's surfaces (docs/security.md "Lock-down"): with `TOLK_REQUIRE_KEY=1` the
 * live stream (`/api/v1/ws/single`) and creating a conversation need an API key (Bearer or the
 * sign-in cookie of `POST /api/v1/sign-in`); a guest joins by the conversation's id without one.
 * Without the switch, nothing needs a key. Real sockets on a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTestServer } from './helpers.js';
import { Peer } from './room-peer.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** Opens a WebSocket with `headers`: 'open', or the HTTP status of a refused upgrade. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number | 'open'; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 'open', body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

const create = (server: Server, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });

describe('lock-down: TOLK_REQUIRE_KEY=1', () => {
  let server: Server;
  let ws = '';
  before(async () => {
    server = await startTestServer({ requireKey: true });
    ws = server.url.replace('http', 'ws');
  });
  after(async () => server.close());

  it('refuses the live stream and conversation creation without a key (401, spec 003 error shape); languages say a key is needed', async () => {
    const languages = (await (await fetch(`${server.url}/api/v1/languages`)).json()) as { access: unknown; default_source: string };
    assert.deepEqual(languages.access, { key_required: true, signed_in: false });
    assert.equal(languages.default_source, 'en-US');
    const refused = await create(server);
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { error: 'An API key is required on this server: sign in on the web app, or send Authorization: Bearer <key>.' });
    const socket = await upgrade(`${ws}/api/v1/ws/single`);
    assert.equal(socket.status, 401);
    assert.match(socket.body, /An API key is required/);
    assert.equal((await upgrade(`${ws}/api/v1/ws/single`, { authorization: 'Bearer ip_live_wrong' })).status, 401);
  });

  it('a Bearer key opens both; the sign-in cookie too; sign-out clears it; a wrong key does not sign in', async () => {
    const bearer = { authorization: `Bearer ${server.apiKey}` };
    assert.equal((await create(server, bearer)).status, 200);
    assert.equal((await upgrade(`${ws}/api/v1/ws/single`, bearer)).status, 'open');

    const wrong = await fetch(`${server.url}/api/v1/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'ip_live_nope' }) });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: 'Invalid API key.' });
    assert.equal(wrong.headers.get('set-cookie'), null);
    const malformed = await fetch(`${server.url}/api/v1/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(malformed.status, 400);

    const signedIn = await fetch(`${server.url}/api/v1/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: server.apiKey }) });
    assert.equal(signedIn.status, 204);
    const setCookie = signedIn.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^tolk_key=[^;]+; Path=\/api\/v1; HttpOnly; SameSite=Strict; Max-Age=2592000$/);
    const cookie = { cookie: setCookie.split(';')[0] ?? '' };
    assert.equal((await create(server, cookie)).status, 200);
    assert.equal((await upgrade(`${ws}/api/v1/ws/single`, cookie)).status, 'open');
    const languages = (await (await fetch(`${server.url}/api/v1/languages`, { headers: cookie })).json()) as { access: unknown };
    assert.deepEqual(languages.access, { key_required: true, signed_in: true });

    const signedOut = await fetch(`${server.url}/api/v1/sign-out`, { method: 'POST' });
    assert.equal(signedOut.status, 204);
    assert.match(signedOut.headers.get('set-cookie') ?? '', /^tolk_key=; Path=\/api\/v1; HttpOnly; SameSite=Strict; Max-Age=0$/);
  });

  it('a guest joins a conversation a key holder created, by its id alone', async () => {
    const { conversation_id: id } = (await (await create(server, { authorization: `Bearer ${server.apiKey}` })).json()) as { conversation_id: string };
    assert.equal((await fetch(`${server.url}/api/v1/session/${id}`)).status, 200);
    const guest = await Peer.join(server.url, id, 'es');
    assert.ok(guest.json.some((m) => m.type === 'user_joined'));
    await guest.close();
  });
});

describe('lock-down off (the default)', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.close());

  it('needs no key for the live stream or a new conversation', async () => {
    const languages = (await (await fetch(`${server.url}/api/v1/languages`)).json()) as { access: unknown };
    assert.deepEqual(languages.access, { key_required: false, signed_in: false });
    assert.equal((await create(server)).status, 200);
    assert.equal((await upgrade(`${server.url.replace('http', 'ws')}/api/v1/ws/single`)).status, 'open');
  });
});
