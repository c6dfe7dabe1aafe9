import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisLeases, Renewal } from '../src/state/redis-leases.js';
import { testRedisUrl } from './helpers.js';

// The one lease pattern of every shared registry (worker registry, live streams, room interpreters):
// lease sets and claims on a real Redis, expiring on the Redis clock unless renewed.
const redisUrl = testRedisUrl();

/** Resolves once `check` holds, polling Redis every 20 ms; fails after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Redis leases: lease sets, claims and their renewal', { skip: redisUrl ? false : 'no TOLK_TEST_REDIS_URL' }, () => {
  const prefix = `tolk-test:leases:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
  let redis: Redis;
  let leases: RedisLeases;

  before(() => {
    redis = new Redis(redisUrl ?? '');
    leases = new RedisLeases(redis);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('a lease set counts live members; an unrenewed lease expires by itself, a dropped one at once', async () => {
    const key = `${prefix}set`;
    await leases.put(key, 'a', 60_000);
    await leases.put(key, 'b', 150);
    assert.deepEqual((await leases.live(key)).sort(), ['a', 'b']);
    await until(async () => (await leases.live(key)).length === 1);
    assert.deepEqual(await leases.live(key), ['a']);
    assert.deepEqual(await leases.drop(key, 'a'), []);
    assert.equal(await redis.exists(key), 0, 'an empty lease set leaves no key behind');
  });

  it('the set key outlives its longest lease and no more', async () => {
    const key = `${prefix}ttl`;
    await leases.put(key, 'short', 200);
    await leases.put(key, 'long', 5000);
    const pttl = await redis.pttl(key);
    assert.ok(pttl > 4000 && pttl <= 5000, `PTTL ${pttl}`);
  });

  it('a claim has one owner until released or expired', async () => {
    const key = `${prefix}claim`;
    assert.equal(await leases.claim(key, 'gw1', 200), true);
    assert.equal(await leases.claim(key, 'gw2', 200), false, 'held by gw1');
    assert.equal(await leases.claim(key, 'gw1', 200), true, 'the owner renews');
    await leases.release(key, 'gw2');
    assert.equal(await redis.get(key), 'gw1', 'only the owner releases');
    await until(() => leases.claim(key, 'gw2', 60_000), 2000);
    assert.equal(await redis.get(key), 'gw2', 'taken over once gw1 stopped renewing');
    await leases.release(key, 'gw2');
    assert.equal(await redis.exists(key), 0);
  });

  it('a renewal keeps a lease alive, reports a failure once, and stops', async () => {
    const key = `${prefix}renewed`;
    const errors: unknown[] = [];
    let failNext = 0;
    const renewal = new Renewal(async () => {
      if (failNext > 0) {
        failNext--;
        throw new Error('redis down');
      }
      await leases.put(key, 'me', 300);
    }, 50, (err) => errors.push(err));
    await leases.put(key, 'me', 300);
    renewal.start();
    failNext = 3;
    // Three failures in a row, then renewals again: one report, and the lease never lapsed.
    await until(async () => failNext === 0);
    await renewal.now();
    assert.equal(errors.length, 1);
    assert.deepEqual(await leases.live(key), ['me']);
    await renewal.stop();
    await until(async () => (await leases.live(key)).length === 0);
  });
});
