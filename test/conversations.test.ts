import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engines } from '../src/providers/registry.js';
import type { WorkerLink } from '../src/realtime/worker-link.js';
import { closeEngines } from '../src/providers/index.js';
import { countTranslations, librivoxSamples, startTestServer, testEngines, testRedisUrl } from './helpers.js';
import { Peer } from './room-peer.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/**
 * The client address of this run's creations: creation limits live in Redis for a minute in the
 * service-backed run, so a run right after another must not share the other's budget.
 */
const RUN_NET = `10.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
const RUN_ADDRESS = `${RUN_NET}.1`;

const speech = librivoxSamples;

describe('conversations (spec 003): languages, sessions, expiry', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer({ conversationCreatePerMin: 4, conversationIdleTtlS: 2 });
  });
  after(async () => {
    await server.close();
  });

  it('lists the languages the installed engines can do, with defaults', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/v1/languages' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ supported_languages: Array<[string, string]>; default_source: string; default_target: string }>();
    const codes = body.supported_languages.map(([code]) => code);
    assert.ok(codes.includes('en-US') && codes.includes('es') && codes.includes('ca'), codes.join(','));
    assert.deepEqual(body.supported_languages.find(([c]) => c === 'es'), ['es', 'Spanish']);
    assert.equal(body.default_source, 'en-US');
    assert.equal(body.default_target, 'es');
  });

  it('creates a conversation with an unguessable id and a join URL; reads it back; 404 otherwise', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: RUN_ADDRESS });
    assert.equal(res.statusCode, 200);
    const { conversation_id: id, join_url: joinUrl } = res.json<{ conversation_id: string; join_url: string }>();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(joinUrl, new RegExp(`/join/${id}$`));
    const got = await server.app.inject({ method: 'GET', url: `/api/v1/session/${id}` });
    assert.deepEqual(got.json(), { user_a_lang: 'en-US', user_a_translate: 'es' });
    const missing = await server.app.inject({ method: 'GET', url: '/api/v1/session/00000000-0000-4000-8000-000000000000' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'Session not found.' });
    const bad = await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'xx', translate_language: 'es' }, remoteAddress: RUN_ADDRESS });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ error: string }>().error, /Unsupported language "xx"/);
  });

  it('expires a conversation after its idle TTL (shortened to 2 s here): 404, and a join is refused with 4404', async () => {
    const { conversation_id: id } = (await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: RUN_ADDRESS })).json<{ conversation_id: string }>();
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/session/${id}` })).statusCode, 200);
    await new Promise((r) => setTimeout(r, 2300));
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/session/${id}` })).statusCode, 404);
    const peer = new Peer(`${server.url.replace('http', 'ws')}/api/v1/ws/${id}?language=en-US&speech=true`);
    await peer.closed;
    assert.equal(peer.closeCode, 4404);
    assert.deepEqual(peer.json.map(({ atMs: _, ...m }) => m), [{ error: 'Session not found.' }]);
  });

  it('rate-limits conversation creation per client (429 with an error message)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: `${RUN_NET}.9` })).statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    const limited = await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: `${RUN_NET}.9` });
    assert.equal(limited.statusCode, 429);
    assert.match(limited.json<{ error: string }>().error, /Too many conversations/);
    const other = await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: `${RUN_NET}.10` });
    assert.equal(other.statusCode, 200);
  });

  it('keeps conversations in Redis with the idle TTL when REDIS_URL is set', { skip: testRedisUrl() ? false : 'no TOLK_TEST_REDIS_URL' }, async () => {
    const { conversation_id: id } = (await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'ca' }, remoteAddress: `${RUN_NET}.11` })).json<{ conversation_id: string }>();
    const ttl = await server.ctx.redis?.ttl(`tolk:conversation:${id}`);
    assert.ok(ttl !== undefined && ttl > 0 && ttl <= 2, `ttl ${ttl}`);
  });
});

describe('conversations: errors from the state store and the engines', () => {
  it('answers 503 "Redis service is unavailable." when Redis is configured and down', async () => {
    const server = await startTestServer({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const created = await server.app.inject({ method: 'POST', url: '/api/v1/session/create', payload: { language: 'en-US', translate_language: 'es' }, remoteAddress: RUN_ADDRESS });
      assert.equal(created.statusCode, 503);
      assert.deepEqual(created.json(), { error: 'Redis service is unavailable.' });
      const got = await server.app.inject({ method: 'GET', url: '/api/v1/session/00000000-0000-4000-8000-000000000000' });
      assert.equal(got.statusCode, 503);
      assert.deepEqual(got.json(), { error: 'Redis service is unavailable.' });
    } finally {
      await server.close();
    }
  });

  it('answers 503 to /api/v1/languages when no engine pair is available', async () => {
    const real = await testEngines();
    const none: Engines = {
      ...real,
      mt: Object.assign(Object.create(real.mt) as Engines['mt'], { capabilities: { ...real.mt.capabilities, pairs: [] } }),
      stt: Object.assign(Object.create(real.stt) as Engines['stt'], { capabilities: { ...real.stt.capabilities, languages: [] } }),
    };
    const server = await startTestServer();
    const saved = server.ctx.engines;
    server.ctx.engines = none;
    try {
      const res = await server.app.inject({ method: 'GET', url: '/api/v1/languages' });
      assert.equal(res.statusCode, 503);
      assert.equal(typeof res.json<{ error: string }>().error, 'string');
    } finally {
      server.ctx.engines = saved;
      await server.close();
    }
  });
});

describe('conversations: /api/v1/ws/single and multi-device rooms over real sockets', () => {
  let server: Server;
  let engines: Engines;
  let ws = '';
  before(async () => {
    server = await startTestServer();
    engines = await testEngines();
    ws = server.url.replace('http', 'ws');
  });
  after(async () => {
    await server.close();
    await closeEngines(engines);
  });

  async function createConversation(language = 'en-US', translate = 'es'): Promise<string> {
    const res = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language, translate_language: translate }) });
    return ((await res.json()) as { conversation_id: string }).conversation_id;
  }

  it('single device: interims, then finals with the translation and latency, speech back; a new config switches languages mid-stream', async () => {
    const peer = new Peer(`${ws}/api/v1/ws/single`);
    await peer.opened;
    peer.send({ type: 'config', language: 'en-US', translate_language: 'es', voice: 'female', sample_rate: 16000, speech: true });
    await peer.speak(speech('0880'));
    await peer.until('a Spanish final', () => peer.finals().length >= 1);
    const spanish = peer.finals();
    assert.ok(peer.json.some((m) => m.is_final === false && typeof m.original === 'string' && m.original !== ''), 'no interim transcript');
    const first = spanish[0] as { original: string; translation: string; latency_ms: number; utterance_id: string };
    assert.match(first.original, /young man/);
    assert.equal(first.translation, (await engines.mt.translate([first.original], { source: 'en', target: 'es' })).join(''));
    assert.ok(first.latency_ms > 0 && first.latency_ms < 5000, `latency ${first.latency_ms}`);
    await peer.until('speech', () => peer.audioBytes > 16000);

    // Switch to Catalan without reconnecting.
    peer.send({ type: 'config', language: 'en-US', translate_language: 'ca', voice: 'male', sample_rate: 16000 });
    await peer.speak(speech('0930'));
    await peer.until('a Catalan final', () => peer.finals().length > spanish.length);
    const catalan = peer.finals().slice(spanish.length) as Array<{ original: string; translation: string }>;
    for (const f of catalan) assert.equal(f.translation, (await engines.mt.translate([f.original], { source: 'en', target: 'ca' })).join(''));
    assert.notEqual(catalan[0]?.translation, (await engines.mt.translate([catalan[0]?.original ?? ''], { source: 'en', target: 'es' })).join(''));
    assert.ok(!peer.json.some((m) => 'error' in m), JSON.stringify(peer.json.filter((m) => 'error' in m)));
    await peer.close();
  });

  it('single device: audio before any config is refused with an error message', async () => {
    const peer = new Peer(`${ws}/api/v1/ws/single`);
    await peer.opened;
    await peer.speak(new Int16Array(1600), 0);
    await peer.until('an error', () => peer.json.some((m) => 'error' in m));
    assert.match(String(peer.json.find((m) => 'error' in m)?.error), /config/);
    await peer.close();
  });

  it('two participants: joins and partner language, interims to the speaker only, each final in each listener\'s language, speech to the listener', async () => {
    const id = await createConversation();
    const a = new Peer(`${ws}/api/v1/ws/${id}?language=en-US&speech=true`);
    await a.until('A joined', () => a.json.some((m) => m.type === 'user_joined'));
    const b = new Peer(`${ws}/api/v1/ws/${id}?language=es&speech=true`);
    await b.until('B joined', () => b.json.some((m) => m.type === 'user_joined'));
    await a.until('A sees 2', () => a.json.some((m) => m.type === 'user_joined' && m.client_count === 2));
    assert.deepEqual(b.json.filter((m) => m.type === 'partner_language').map((m) => m.lang), ['en-US']);
    assert.deepEqual(a.json.filter((m) => m.type === 'user_joined').map((m) => m.client_count), [1, 2]);

    await a.speak(speech('0880'));
    await b.until('B gets the final', () => b.finals().length >= 1);
    await a.until('A gets the final', () => a.finals().length >= 1);
    const mine = a.finals()[0] as { is_mine: boolean; original: string; translation: string };
    const theirs = b.finals()[0] as { is_mine: boolean; original: string; translation: string; latency_ms: number };
    assert.equal(mine.is_mine, true);
    assert.equal(theirs.is_mine, false);
    assert.equal(theirs.original, mine.original);
    assert.equal(mine.translation, mine.original, 'the speaker reads their own language');
    assert.equal(theirs.translation, (await engines.mt.translate([theirs.original], { source: 'en', target: 'es' })).join(''));
    assert.ok(a.json.some((m) => m.is_interim === true && m.is_mine === true), 'the speaker got no interim');
    assert.ok(!b.json.some((m) => m.is_interim === true), 'a listener got an interim');
    await b.until('speech for B', () => b.audioBytes > 16000);
    assert.equal(a.audioBytes, 0, 'the speaker must not hear their own translation');
    console.log(`# conversation: end of speech → translation at the listener ${theirs.latency_ms} ms`);

    await a.close();
    await b.until('A left', () => b.json.some((m) => m.type === 'user_left' && m.client_count === 1));
    await b.close();
  });

  it('a room speaker opens one leg 2 while the worker is slow to acknowledge, and a new one at the next audio after the worker was lost', async () => {
    const workers = server.ctx.workers;
    const realOpen = workers.open.bind(workers);
    const opened: WorkerLink[] = [];
    // A worker that takes 500 ms to acknowledge (loading a recognizer): a dozen 40 ms frames arrive meanwhile.
    workers.open = async (config, options) => {
      await new Promise((r) => setTimeout(r, 500));
      const link = await realOpen(config, options);
      opened.push(link);
      return link;
    };
    try {
      const id = await createConversation();
      const a = await Peer.join(server.url, id, 'en-US');
      const b = await Peer.join(server.url, id, 'es');
      await a.speak(speech('0880'));
      await b.until('B gets the final', () => b.finals().length >= 1);
      assert.equal(opened.length, 1, 'one leg 2 for the speaker, not one per frame that arrived while it opened');
      // The worker goes away (as a SIGKILL looks to the gateway): the speaker is told, and speaks on.
      const lost = opened[0] as WorkerLink & { stream: { drain(ms: number, code: number, reason: string): Promise<void> } };
      await lost.stream.drain(0, 1001, 'worker shutting down');
      await a.until('the notice', () => a.json.some((m) => typeof m.error === 'string' && /recognizer stopped/.test(m.error)));
      const before = b.finals().length;
      await a.speak(speech('0930'));
      await b.until('B gets the next final', () => b.finals().length > before);
      assert.equal(opened.length, 2, 'one new leg 2 after the loss');
      await a.close();
      await b.close();
    } finally {
      workers.open = realOpen;
    }
  });

  it('four participants in three languages: each final translated once per language, delivered to all', async () => {
    const id = await createConversation('en-US', 'ca');
    const langs = ['en-US', 'es', 'es', 'ca'];
    const peers: Peer[] = [];
    for (const lang of langs) {
      const p = new Peer(`${ws}/api/v1/ws/${id}?language=${lang}&speech=true`);
      await p.until('joined', () => p.json.some((m) => m.type === 'user_joined'));
      peers.push(p);
    }
    const [speaker, es1, es2, ca] = peers as [Peer, Peer, Peer, Peer];
    await speaker.until('4 in the room', () => speaker.json.some((m) => m.client_count === 4));
    const counter = countTranslations(engines);
    try {
      await speaker.speak(speech('0930'));
      for (const p of peers) await p.until('a final', () => p.finals().length >= 1);
    } finally {
      counter.restore();
    }
    const finalsDelivered = speaker.finals().length;
    const original = String(speaker.finals()[0]?.original);
    assert.equal(es1.finals()[0]?.translation, es2.finals()[0]?.translation);
    assert.equal(es1.finals()[0]?.translation, (await engines.mt.translate([original], { source: 'en', target: 'es' })).join(''));
    assert.equal(ca.finals()[0]?.translation, (await engines.mt.translate([original], { source: 'en', target: 'ca' })).join(''));
    assert.deepEqual(Object.fromEntries(counter.counts), { es: finalsDelivered, ca: finalsDelivered }, 'one MT call per language per final');
    for (const p of [es1, es2, ca]) await p.until('speech', () => p.audioBytes > 8000);
    for (const p of peers) await p.close();
  });

  it('refuses an unknown conversation (4404) and an unsupported language (4400) with an error message', async () => {
    const unknown = new Peer(`${ws}/api/v1/ws/00000000-0000-4000-8000-000000000000?language=en-US`);
    await unknown.closed;
    assert.equal(unknown.closeCode, 4404);
    assert.equal(unknown.json[0]?.error, 'Session not found.');
    const id = await createConversation();
    const german = new Peer(`${ws}/api/v1/ws/${id}?language=de`);
    await german.closed;
    assert.equal(german.closeCode, 4400);
    assert.match(String(german.json[0]?.error), /Unsupported language "de"/);
  });
});
