import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';
import { Peer } from './room-peer.js';

describe('unauthenticated conversation rooms are bounded', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    server = await startTestServer({ roomLimits: { maxParticipants: 3, maxSocketsPerIp: 5, idleTimeoutMs: 60_000 } });
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  async function createConversation(): Promise<string> {
    const res = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    return ((await res.json()) as { conversation_id: string }).conversation_id;
  }

  it('a full room refuses the next socket (4429) and its members hear no join of it', async () => {
    const id = await createConversation();
    const members = [await Peer.join(server.url, id, 'en'), await Peer.join(server.url, id, 'es'), await Peer.join(server.url, id, 'en')];
    const extra = new Peer(`${server.url.replace('http', 'ws')}/api/v1/ws/${id}?language=en`);
    await extra.closed;
    assert.equal(extra.closeCode, 4429);
    assert.match(String(extra.json[0]?.error), /This conversation is full: at most 3 participants/);
    assert.equal(members[0]?.json.filter((m) => m.type === 'user_joined').length, 3, 'the first member heard three joins, not four');
    for (const m of members) await m.close();
  });

  it('sockets that stay silent are closed after the room idle timeout (4408)', async () => {
    const quick = await startTestServer({ roomLimits: { maxParticipants: 3, maxSocketsPerIp: 5, idleTimeoutMs: 400 } });
    try {
      const res = await fetch(`${quick.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
      const id = ((await res.json()) as { conversation_id: string }).conversation_id;
      const silent = await Peer.join(quick.url, id, 'en');
      await silent.closed;
      assert.equal(silent.closeCode, 4408);
      assert.match(String(silent.json.find((m) => 'error' in m)?.error), /Nothing was said in this conversation/);
    } finally {
      await quick.close();
    }
  });

  it('one address holds at most TOLK_ROOM_MAX_SOCKETS_PER_IP room sockets (4429 past it)', async () => {
    const ids = await Promise.all(Array.from({ length: 2 }, () => createConversation()));
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await Peer.join(server.url, ids[i % 2] as string, 'en'));
    const sixth = new Peer(`${server.url.replace('http', 'ws')}/api/v1/ws/${ids[0] as string}?language=en`);
    await sixth.closed;
    assert.equal(sixth.closeCode, 4429);
    assert.match(String(sixth.json[0]?.error), /Too many conversation connections from this address/);
    for (const p of held) await p.close();
  });
});
