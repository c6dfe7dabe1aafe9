import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ConversationStoreUnavailableError, StateConversationStore } from '../src/domain/conversations.js';
import { RedisStateStore } from '../src/state/redis-store.js';
import { MemoryStateStore } from '../src/state/store.js';
import { testRedisUrl } from './helpers.js';

describe('conversations over the in-memory state store', () => {
  let nowMs = 1_000_000;
  const state = new MemoryStateStore(() => nowMs);
  const store = new StateConversationStore(state, 60, () => nowMs);
  after(() => state.close());

  it('a conversation lives for the idle TTL; touching it starts the TTL again; then it is gone', async () => {
    const c = await store.create('en-US', 'es');
    assert.deepEqual(await store.get(c.id), { id: c.id, userALang: 'en-US', userATranslate: 'es', createdAtMs: 1_000_000 });
    assert.equal(await state.get(c.id), JSON.stringify(c), 'one JSON entry under the id');
    nowMs += 59_000;
    assert.equal(await store.touch(c.id), true);
    nowMs += 59_000;
    assert.equal((await store.get(c.id))?.id, c.id, 'alive 118 s after creation: the touch renewed it');
    nowMs += 1_000;
    assert.equal(await store.get(c.id), undefined);
    assert.equal(await store.touch(c.id), false, 'an expired conversation is not brought back');
    assert.equal(await store.touch(randomUUID()), false);
  });
});

describe('conversations over the Redis state store', { skip: testRedisUrl() ? false : 'no TOLK_TEST_REDIS_URL' }, () => {
  const redis = new Redis(testRedisUrl() ?? '', { lazyConnect: true });
  const prefix = `tolk-test:${randomUUID()}:conversation:`;
  const store = new StateConversationStore(new RedisStateStore(redis, prefix), 30);
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('one key per conversation with the TTL in ms, renewed by touch (PEXPIRE); a missing one is not created', async () => {
    const c = await store.create('de', 'en');
    assert.deepEqual(JSON.parse((await redis.get(prefix + c.id)) ?? 'null'), c);
    const ttlMs = await redis.pttl(prefix + c.id);
    assert.ok(ttlMs > 29_000 && ttlMs <= 30_000, `pttl ${ttlMs}`);
    await redis.pexpire(prefix + c.id, 5_000);
    assert.equal(await store.touch(c.id), true);
    assert.ok((await redis.pttl(prefix + c.id)) > 29_000, 'touch put the full TTL back');
    assert.deepEqual(await store.get(c.id), c);
    const unknown = randomUUID();
    assert.equal(await store.touch(unknown), false);
    assert.equal(await redis.exists(prefix + unknown), 0);
  });

  it('an unreachable Redis is ConversationStoreUnavailableError ("Redis service is unavailable.")', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined); // the refusal is asserted below
    const unreachable = new StateConversationStore(new RedisStateStore(down, 'x:'), 30);
    try {
      await assert.rejects(unreachable.create('en', 'es'), (err: unknown) => err instanceof ConversationStoreUnavailableError && err.message === 'Redis service is unavailable.');
      await assert.rejects(unreachable.touch('a'), ConversationStoreUnavailableError);
    } finally {
      down.disconnect();
    }
  });
});
