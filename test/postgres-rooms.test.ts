import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { closeEngines } from '../src/providers/index.js';
import type { Engines } from '../src/providers/registry.js';
import type { RoomEvent } from '../src/realtime/room-bus.js';
import { RedisRoomBus } from '../src/realtime/room-bus-redis.js';
import { countTranslations, librivoxSamples, startTestServer, testEngines, testRedisUrl } from './helpers.js';
import { Peer } from './room-peer.js';

// Conversation rooms across processes (spec 003 Flow 2, docs/architecture.md "Processes"): two Tolk servers
// in this test process, each with its own Redis connections, sharing one Redis.
const redisUrl = testRedisUrl();
const skip = redisUrl ? false : 'no TOLK_TEST_REDIS_URL (make test sets it when Redis answers): rooms across processes need Redis';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const speech = librivoxSamples;

describe('conversation rooms across two Tolk processes through Redis pub/sub', { skip }, () => {
  let one: Server;
  let two: Server;
  let engines: Engines;
  let redis: Redis;
  before(async () => {
    one = await startTestServer({ redisUrl });
    two = await startTestServer({ redisUrl });
    engines = await testEngines();
    redis = new Redis(redisUrl ?? '');
  });
  after(async () => {
    await one?.close();
    await two?.close();
    redis?.disconnect();
    if (engines) await closeEngines(engines);
  });

  async function createConversation(language: string, translate: string): Promise<string> {
    const res = await fetch(`${one.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language, translate_language: translate }) });
    assert.equal(res.status, 200);
    return ((await res.json()) as { conversation_id: string }).conversation_id;
  }

  /** The members Redis still holds for a conversation (the `#v` version field aside). */
  async function membersInRedis(id: string): Promise<string[]> {
    return Object.keys(await redis.hgetall(`tolk:room:${id}:members`)).filter((k) => k !== '#v');
  }

  it('A (en-US) on server 1 and B (es) on server 2: global count, partner languages, A\'s final and speech reach B in Spanish, A leaving reaches B', async () => {
    const id = await createConversation('en-US', 'es');
    const a = await Peer.join(one.url, id, 'en-US');
    const b = await Peer.join(two.url, id, 'es');
    await a.until('A sees 2', () => a.counts('user_joined').includes(2));
    assert.deepEqual(a.counts('user_joined'), [1, 2]);
    assert.deepEqual(b.counts('user_joined'), [2]);
    assert.deepEqual(b.json.filter((m) => m.type === 'partner_language').map((m) => m.lang), ['en-US']);
    assert.deepEqual(a.json.filter((m) => m.type === 'partner_language').map((m) => m.lang), ['es']);

    await a.speak(speech('0880'));
    await b.until('B gets the final', () => b.finals().length >= 1, 20_000);
    await a.until('A gets the final', () => a.finals().length >= 1);
    const mine = a.finals()[0] as { is_mine: boolean; original: string; translation: string; utterance_id: string };
    const theirs = b.finals()[0] as { is_mine: boolean; original: string; translation: string; utterance_id: string; latency_ms: number };
    assert.match(mine.original, /young man/);
    assert.equal(mine.is_mine, true);
    assert.equal(mine.translation, mine.original);
    assert.equal(theirs.is_mine, false);
    assert.equal(theirs.original, mine.original);
    assert.equal(theirs.utterance_id, mine.utterance_id);
    assert.equal(theirs.translation, (await engines.mt.translate([theirs.original], { source: 'en', target: 'es' })).join(''));
    assert.ok(theirs.latency_ms >= 0 && theirs.latency_ms < 5000, `latency ${theirs.latency_ms}`);
    assert.ok(a.json.some((m) => m.is_interim === true), 'the speaker got no interim');
    assert.ok(!b.json.some((m) => m.is_interim === true), 'an interim crossed to the other process');
    await b.until('translated speech for B', () => b.audioBytes > 16000);
    assert.equal(b.audioBytes % 2, 0, 'whole s16 samples');
    assert.equal(a.audioBytes, 0, 'the speaker must not hear their own translation');
    console.log(`# rooms across processes: end of speech → translation ${theirs.latency_ms} ms, ${b.audioBytes} bytes of speech to B`);

    await a.close();
    await b.until('A left', () => b.counts('user_left').includes(1));
    assert.equal((await membersInRedis(id)).length, 1, 'A is no longer a member');
    await b.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await membersInRedis(id), [], 'membership cleaned up on leave');
  });

  it('four participants over two servers in three languages: each final translated once per language, delivered to all', async () => {
    const id = await createConversation('en-US', 'ca');
    const a = await Peer.join(one.url, id, 'en-US');
    const b = await Peer.join(two.url, id, 'es');
    const c = await Peer.join(two.url, id, 'ca');
    const d = await Peer.join(one.url, id, 'es');
    const peers = [a, b, c, d];
    for (const p of peers) await p.until('4 in the room', () => p.counts('user_joined').includes(4));
    assert.deepEqual(c.json.filter((m) => m.type === 'partner_language').map((m) => m.lang).slice(0, 1), ['en-US'], 'the partner is the first participant');
    const counter = countTranslations(engines);
    try {
      await a.speak(speech('0930'));
      for (const p of peers) await p.until('a final', () => p.finals().length >= 1, 20_000);
      await new Promise((r) => setTimeout(r, 500)); // any duplicate translation would be counted by now
      for (const p of peers) await p.until('every final', () => p.finals().length === a.finals().length);
    } finally {
      counter.restore();
    }
    const finals = a.finals().length;
    const original = String(a.finals()[0]?.original);
    const es = (await engines.mt.translate([original], { source: 'en', target: 'es' })).join('');
    assert.equal(b.finals()[0]?.translation, es);
    assert.equal(d.finals()[0]?.translation, es);
    assert.equal(c.finals()[0]?.translation, (await engines.mt.translate([original], { source: 'en', target: 'ca' })).join(''));
    for (const p of [b, c, d]) assert.equal(p.finals()[0]?.is_mine, false);
    assert.deepEqual(Object.fromEntries(counter.counts), { es: finals, ca: finals }, 'one MT call per language per final, across both servers');
    for (const p of [b, c, d]) await p.until('speech', () => p.audioBytes > 8000);

    // A server shutting down takes its participants out of the room for the others.
    const three = await startTestServer({ redisUrl });
    const e = await Peer.join(three.url, id, 'gl');
    for (const p of peers) await p.until('5 in the room', () => p.counts('user_joined').includes(5));
    await three.close();
    await e.closed;
    for (const p of peers) await p.until('E gone with its server', () => p.counts('user_left').includes(4));
    for (const p of peers) await p.close();
  });

  it('drops the members of a process that died without leaving, and tells the room', async () => {
    const roomId = `test-${Date.now()}`;
    const deadConnection = new Redis(redisUrl ?? '', { maxRetriesPerRequest: 0 });
    const liveConnection = new Redis(redisUrl ?? '');
    const quick = { memberTtlMs: 600, heartbeatMs: 150 };
    const dying = new RedisRoomBus(deadConnection, quick);
    const living = new RedisRoomBus(liveConnection, quick);
    try {
      const events: RoomEvent[] = [];
      await living.subscribe(roomId, (event) => events.push(event));
      await dying.join(roomId, { id: 'ghost', language: 'es' });
      const joined = await living.join(roomId, { id: 'survivor', language: 'en-US' });
      assert.equal(joined.count, 2);
      assert.deepEqual(joined.others, [{ id: 'ghost', language: 'es' }]);
      deadConnection.disconnect(); // the process dies: no leave, no heartbeat
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.type === 'left') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(events.filter((e) => e.type === 'left').map((e) => e.type === 'left' && [e.memberId, e.count]), [['ghost', 1]]);
      assert.deepEqual(await living.members(roomId), [{ id: 'survivor', language: 'en-US' }]);

      // Redis loses the room (a restart): the heartbeat puts the survivor back, and versions still
      // increase, so no process takes new changes for old ones.
      const lastVersion = Math.max(...events.map((e) => ('version' in e ? e.version : 0)));
      await redis.del(`tolk:room:${roomId}:members`);
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(await living.members(roomId), [{ id: 'survivor', language: 'en-US' }]);
      const lateBus = new RedisRoomBus(redis);
      const late = await lateBus.join(roomId, { id: 'late', language: 'ca' });
      assert.ok(late.version > lastVersion, `${late.version} after ${lastVersion}`);
      assert.deepEqual(late.others, [{ id: 'survivor', language: 'en-US' }]);
      await lateBus.close();

      // Speech crosses as raw bytes (newlines included), in blocks of whole samples ≤ 32 KiB.
      const pcm = Buffer.from(Uint8Array.from({ length: 70_001 * 2 }, (_, i) => i % 251));
      const sender = new RedisRoomBus(redis);
      sender.publish(roomId, { type: 'speech', language: 'es', streamId: 'u1:es', speakerId: 'x', pcm });
      sender.publish(roomId, { type: 'speech-end', language: 'es', streamId: 'u1:es' });
      while (!events.some((e) => e.type === 'speech-end') && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
      const blocks = events.flatMap((e) => (e.type === 'speech' ? [e.pcm] : []));
      assert.ok(blocks.length === 5 && blocks.every((b) => b.length <= 32 * 1024 && b.length % 2 === 0), blocks.map((b) => b.length).join(','));
      assert.ok(Buffer.concat(blocks).equals(pcm), 'speech bytes changed on the way');
      await sender.close();
      await living.close();
      assert.deepEqual(await living.members(roomId).catch(() => []), [], 'a closing process removes its members');
    } finally {
      await living.close();
      await dying.close();
      liveConnection.disconnect();
      await redis.del(`tolk:room:${roomId}:members`);
    }
  });
});
