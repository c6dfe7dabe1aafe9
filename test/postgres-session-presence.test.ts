import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisSessionPresence, type LiveConnection } from '../src/realtime/connection-registry.js';
import { openDatabase } from '../src/db/client.js';
import { ensureOrganization } from '../src/domain/api-keys.js';
import { createSession, findSession, markSessionActive } from '../src/domain/sessions.js';
import { SessionRuntime } from '../src/realtime/session-runtime.js';
import { testRedisUrl } from './helpers.js';

// Platform sessions across gateways (spec 000 "Active Session Management"): two presences on their
// own Redis connections stand for two gateway processes.
const redisUrl = testRedisUrl();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live stream that records how it was ended. */
function connection(): LiveConnection & { ended: Array<[number, string]> } {
  const ended: Array<[number, string]> = [];
  return { ended, disconnect: (status, description) => void ended.push([status, description]) };
}

describe('session presence on Redis: counts and revocations span processes', { skip: redisUrl ? false : 'no TOLK_TEST_REDIS_URL' }, () => {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const options = { keyPrefix: `tolk-test:session-streams:${run}:`, channel: `tolk-test:revocations:${run}`, leaseTtlMs: 600 };
  const connections: Redis[] = [];
  let one: RedisSessionPresence;
  let two: RedisSessionPresence;
  const errors: Error[] = [];

  before(() => {
    connections.push(new Redis(redisUrl ?? ''), new Redis(redisUrl ?? ''));
    one = new RedisSessionPresence(connections[0] as Redis, { ...options, onError: (e) => errors.push(e) });
    two = new RedisSessionPresence(connections[1] as Redis, { ...options, onError: (e) => errors.push(e) });
  });
  after(async () => {
    await one.close();
    await two.close();
    const keys = await (connections[0] as Redis).keys(`${options.keyPrefix}*`);
    if (keys.length > 0) await (connections[0] as Redis).del(...keys);
    for (const c of connections) c.disconnect();
  });

  it('a revocation on one process ends the participant\'s streams on both, and only theirs; the count spans both', async () => {
    const [a1, b1, b2] = [connection(), connection(), connection()];
    await one.add('sess_1', 'usr_p', a1);
    await two.add('sess_1', 'usr_p', b1);
    await two.add('sess_1', 'usr_q', b2);
    assert.equal(await one.disconnectParticipant('sess_1', 'usr_p', 403, 'revoked'), 2);
    assert.deepEqual(a1.ended, [[403, 'revoked']]);
    for (let i = 0; i < 40 && b1.ended.length === 0; i++) await sleep(25);
    assert.deepEqual(b1.ended, [[403, 'revoked']], 'the other process ended its stream');
    assert.deepEqual(b2.ended, [], 'another participant is untouched');
    // The session completes when its last stream closes, whichever process holds it.
    assert.equal(await one.remove('sess_1', a1), 2);
    assert.equal(await two.remove('sess_1', b1), 1);
    assert.equal(await two.remove('sess_1', b2), 0);
    assert.deepEqual(errors, []);
  });

  it('a process that dies without removing its streams stops counting once its leases expire', async () => {
    const deadConnection = new Redis(redisUrl ?? '');
    connections.push(deadConnection);
    const dead = new RedisSessionPresence(deadConnection, options);
    const [alive, orphan] = [connection(), connection()];
    await one.add('sess_2', 'usr_p', alive);
    await dead.add('sess_2', 'usr_p', orphan);
    await dead.close(); // no more renewals: as if the process were killed
    await sleep(400);
    assert.equal(await two.disconnectParticipant('sess_2', 'usr_x', 403, 'nobody'), 0);
    await sleep(200); // 0.6 s after its last renewal
    // Still renewed by the live process: only the dead one's lease is gone.
    assert.equal(await one.remove('sess_2', connection()), 1);
    assert.equal(await one.remove('sess_2', alive), 0);
  });

  it('the sweep completes an active session whose only stream died with its process, and leaves a streaming one active', async () => {
    const handle = await openDatabase({ dataDir: 'memory://' });
    try {
      const org = await ensureOrganization(handle.db, 'sweep');
      const make = async () => {
        const { session } = await createSession(handle.db, { organizationId: org.id, createdByKeyId: 'key_sweep', sourceLang: 'en', targetLang: 'es', speakerName: 'S', creatorRole: 'owner' });
        await markSessionActive(handle.db, session.id);
        return session.id;
      };
      const [orphaned, streaming] = [await make(), await make()];
      const deadConnection = new Redis(redisUrl ?? '');
      connections.push(deadConnection);
      const dead = new RedisSessionPresence(deadConnection, options);
      await dead.add(orphaned, 'usr_p', connection());
      await dead.close(); // killed while streaming
      const live = connection();
      await one.add(streaming, 'usr_p', live);
      const runtime = new SessionRuntime({ db: () => handle.db, presence: two });
      assert.deepEqual(await runtime.completeOrphanedSessions(), [], 'both younger than a lease');
      await sleep(options.leaseTtlMs + 100);
      assert.deepEqual(await runtime.completeOrphanedSessions(), [orphaned]);
      assert.equal((await findSession(handle.db, [org.id], orphaned))?.status, 'completed');
      assert.equal((await findSession(handle.db, [org.id], streaming))?.status, 'active');
      assert.equal(await one.remove(streaming, live), 0);
    } finally {
      await handle.close();
    }
  });
});
