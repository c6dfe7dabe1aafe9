import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import {
  checkStreamAdmission, createStreamCounter, getOrganizationAdmission, RedisStreamCounter, recordUsage, setOrganizationAdmission,
  type AdmissionResult,
} from '../src/domain/admission.js';
import { createScratchDatabase, testPostgresUrl, testRedisUrl } from './helpers.js';

const redisUrl = testRedisUrl();
const pgUrl = testPostgresUrl();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function admitted(result: AdmissionResult): Extract<AdmissionResult, { ok: true }> {
  assert.equal(result.ok, true, `expected admission, got ${JSON.stringify(result)}`);
  return result as Extract<AdmissionResult, { ok: true }>;
}

describe('admission: the Redis stream counter is shared between processes', {
  skip: redisUrl ? false : 'no TOLK_TEST_REDIS_URL (make test sets it when Redis answers)',
}, () => {
  // Two connections stand for two Tolk processes; a prefix of our own keeps runs apart.
  const keyPrefix = `tolk-test:streams:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
  let one: Redis;
  let two: Redis;
  let handle: DatabaseHandle;
  const errors: Error[] = [];

  before(async () => {
    one = new Redis(redisUrl ?? '');
    two = new Redis(redisUrl ?? '');
    handle = await openDatabase({ dataDir: 'memory://' });
  });
  after(async () => {
    const keys = await one.keys(`${keyPrefix}*`);
    if (keys.length > 0) await one.del(...keys);
    one.disconnect();
    two.disconnect();
    await handle.close();
  });

  it('two counters share one limit: 429 from either once the organization holds its slots', async () => {
    const org = await setOrganizationAdmission(handle.db, 'shared', { maxConcurrentStreams: 2 });
    const a = createStreamCounter(one, { keyPrefix, onError: (e) => errors.push(e) });
    assert.ok(a instanceof RedisStreamCounter);
    const b = new RedisStreamCounter(two, { keyPrefix, onError: (e) => errors.push(e) });
    const input = { organizationId: org.organizationId, sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female' };
    const first = admitted(await checkStreamAdmission(handle.db, a, input));
    const second = admitted(await checkStreamAdmission(handle.db, b, input));
    assert.equal(await a.count(org.organizationId), 2);
    for (const counter of [a, b]) {
      const refused = await checkStreamAdmission(handle.db, counter, input);
      assert.deepEqual(refused, { ok: false, status: 429, description: 'Max concurrent connections exceeded (2 for this organization)' });
    }
    await second.release();
    await second.release(); // idempotent: must not free the other process's slot
    assert.equal(await a.count(org.organizationId), 1);
    const third = admitted(await checkStreamAdmission(handle.db, a, input));
    assert.equal((await checkStreamAdmission(handle.db, b, input)).ok, false);
    await first.release();
    await third.release();
    assert.equal(await b.count(org.organizationId), 0);
    assert.deepEqual(errors, []);
  });

  it('racing acquires from both counters never exceed the limit', async () => {
    const a = new RedisStreamCounter(one, { keyPrefix });
    const b = new RedisStreamCounter(two, { keyPrefix });
    const slots = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).acquire('org_race', 5)));
    const held = slots.filter((s) => s !== undefined);
    assert.equal(held.length, 5);
    await Promise.all(held.map((s) => s.release()));
    assert.equal(await a.count('org_race'), 0);
  });

  it('a live slot is renewed past its lease TTL; a dead process\'s slot expires on its own', async () => {
    const crashing = new Redis(redisUrl ?? '');
    const survivor = new RedisStreamCounter(one, { keyPrefix, leaseTtlMs: 300 });
    const doomed = new RedisStreamCounter(crashing, { keyPrefix, leaseTtlMs: 300, onError: () => {} });
    const live = await survivor.acquire('org_lease', 2);
    const lost = await doomed.acquire('org_lease', 2);
    assert.ok(live && lost);
    const ttlMs = await one.pttl(`${keyPrefix}org_lease`);
    assert.ok(ttlMs > 0 && ttlMs <= 300, `the key itself carries a safety TTL (${ttlMs} ms)`);
    assert.equal(await survivor.acquire('org_lease', 2), undefined);
    crashing.disconnect(); // the process dies without releasing: its renewals stop
    await sleep(900);
    assert.equal(await survivor.count('org_lease'), 1, 'the renewed slot is held, the dead one expired');
    const again = await survivor.acquire('org_lease', 2);
    assert.ok(again, 'the expired slot is free again');
    await live.release();
    await again.release();
    await lost.release(); // on a closed connection: reported to onError, not thrown
    assert.equal(await survivor.count('org_lease'), 0);
  });

  it('admits without a slot while Redis is unreachable, and reports the error', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    const seen: Error[] = [];
    const counter = new RedisStreamCounter(down, { keyPrefix, onError: (e) => seen.push(e) });
    const slot = await counter.acquire('org_down', 1);
    assert.ok(slot);
    await slot.release();
    assert.equal(seen.length, 1);
    down.disconnect();
  });
});

describe('admission on Postgres: metering under real concurrency', {
  skip: pgUrl ? false : 'no TOLK_TEST_DATABASE_URL (make test sets it when Postgres answers)',
}, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let handle: DatabaseHandle;
  before(async () => {
    scratch = await createScratchDatabase(pgUrl ?? '');
    handle = await openDatabase({ dataDir: 'memory://', databaseUrl: scratch.url });
  });
  after(async () => {
    await handle.close();
    await scratch.drop();
  });

  it('concurrent recordUsage calls on a pool lose no usage; null stays null; 402 once spent', async () => {
    const metered = await setOrganizationAdmission(handle.db, 'metered', { minutesBalanceMs: 60_000 });
    const free = await setOrganizationAdmission(handle.db, 'free', {});
    await Promise.all(Array.from({ length: 60 }, () => recordUsage(handle.db, metered.organizationId, 1_000)));
    await Promise.all(Array.from({ length: 10 }, () => recordUsage(handle.db, free.organizationId, 1_000)));
    assert.equal((await getOrganizationAdmission(handle.db, 'metered')).minutesBalanceMs, 0);
    assert.equal((await getOrganizationAdmission(handle.db, 'free')).minutesBalanceMs, null);
    const counter = { acquire: async () => ({ release: async () => {} }), count: async () => 0 };
    const input = { sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female' };
    const spent = await checkStreamAdmission(handle.db, counter, { ...input, organizationId: metered.organizationId });
    assert.equal(!spent.ok && spent.status, 402);
    admitted(await checkStreamAdmission(handle.db, counter, { ...input, organizationId: free.organizationId }));
  });
});
