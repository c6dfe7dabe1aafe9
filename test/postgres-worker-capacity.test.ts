/**
 * A gateway and full workers (docs/deploy.md "Capacity"): a worker whose real-time budget is spent
 * refuses leg 2 with 4429 and the gateway places the stream on the next worker with room; when
 * every worker is full the client's stream is refused with 429. The registry a gateway reads can lag
 * a worker's load (heartbeats), so the test reads the real registry through a view that reports every
 * worker idle: the workers' own refusals are what is tested. Needs Redis (`TOLK_TEST_REDIS_URL`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { closeEngines, createEngines, type RoutedEngines } from '../src/providers/index.js';
import { ENGINE_MODULES } from '../src/providers/modules.js';
import { FAKE_ENGINE_MODULES } from '../src/providers/testing/index.js';
import { buildLeg2Config, newRequestId } from '../src/realtime/leg2-config.js';
import { RemoteWorkerLinks } from '../src/realtime/remote-worker-link.js';
import type { WorkerLink, WorkerLinkOptions } from '../src/realtime/worker-link.js';
import { WorkerRegistry, type WorkerEntry } from '../src/state/worker-registry.js';
import { startWorker, type RunningWorker } from '../src/worker-server.js';
import { testRedisUrl } from './helpers.js';

const skip = testRedisUrl() ? false : 'no TOLK_TEST_REDIS_URL: workers announce themselves in the Redis worker registry';
const ENGINES = [
  { id: 'stt', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'] } },
  { id: 'mt', kind: 'mt', name: 'fake-mt' }, { id: 'tts', kind: 'tts', name: 'fake-tts' },
];

/** The registry as a lagging gateway sees it: every worker idle, `first` listed as the least loaded. */
class IdleView extends WorkerRegistry {
  constructor(redis: Redis, private readonly order: () => string[]) {
    super(redis);
  }

  override async live(): Promise<WorkerEntry[]> {
    const ids = this.order();
    const all = (await super.live()).filter((w) => ids.includes(w.id));
    // The first id reads as empty, the others as half full: the gateway tries them in this order.
    return all.map((w) => ({ ...w, capacity: 2, load: w.id === ids[0] ? 0 : 1 }));
  }
}

function leg2Config(): ReturnType<typeof buildLeg2Config> {
  return buildLeg2Config({
    requestId: newRequestId(), sourceLanguage: 'en-US', targetLanguage: 'es-ES', vocabulary: [], dictionary: [],
    client: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, voice: 'female', transcript: { interim: true, final: true, translate: true } },
    providers: { stt: 'stt', translator: 'mt', tts: 'tts' },
  });
}

describe('full workers refuse leg 2 (4429) and the gateway moves on', { skip }, () => {
  const redisUrl = `${(testRedisUrl() ?? '').replace(/\/\d*$/, '')}/${6 + Math.floor(Math.random() * 4)}`;
  const secret = randomBytes(24).toString('hex');
  const engines: RoutedEngines[] = [];
  const workers: RunningWorker[] = [];
  const held: WorkerLink[] = [];
  let redis: Redis;
  const options = (): WorkerLinkOptions => ({ handlers: { onEvent: () => {}, onAudio: () => {}, onClose: () => {} }, log: workers[0]!.app.log });

  before(async () => {
    redis = new Redis(redisUrl);
    for (let i = 0; i < 2; i++) {
      const e = await createEngines({ engines: ENGINES }, { modules: [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES], prewarm: false });
      engines.push(e);
      // One stream each: the fakes have no measured cost, so TOLK_MAX_STREAMS is the capacity.
      workers.push(await startWorker(loadConfig({}, { role: 'worker', port: 0, host: '127.0.0.1', redisUrl, workerSecret: secret, logLevel: 'warn', maxStreams: 1 }), { engines: e }));
    }
  });
  after(async () => {
    for (const link of held) link.close();
    for (const w of workers) await w.close();
    for (const e of engines) await closeEngines(e);
    redis?.disconnect();
  });

  it('a stream refused by a full worker runs on the next one; with every worker full the client gets 429', async () => {
    const [a, b] = workers;
    assert.ok(a && b);
    // Worker A's only slot is taken.
    const onlyA = new RemoteWorkerLinks(new IdleView(redis, () => [a.workerId]), secret);
    const first = await onlyA.open(leg2Config(), options());
    held.push(first);
    assert.equal(first.workerId, a.workerId);

    // The gateway believes A is empty and tries it first: A refuses (4429), B takes the stream.
    const failures: string[] = [];
    const gateway = new RemoteWorkerLinks(new IdleView(redis, () => [a.workerId, b.workerId]), secret, (reason) => failures.push(reason));
    const second = await gateway.open(leg2Config(), options());
    held.push(second);
    assert.equal(second.workerId, b.workerId, 'the stream was placed on the worker with room');
    assert.deepEqual(failures, ['full']);

    // Both full now: the stream is refused with the transport's 429.
    await assert.rejects(gateway.open(leg2Config(), options()), (err: Error & { status?: number }) => {
      assert.equal(err.status, 429);
      assert.match(err.message, /every translation worker is at capacity/);
      return true;
    });
    assert.deepEqual(failures, ['full', 'full', 'full']);

    // A slot freed on A is used again.
    first.close();
    held.shift();
    let third: WorkerLink | undefined;
    for (let attempt = 0; attempt < 50 && !third; attempt++) {
      // The worker releases the slot when it sees leg 2 close: retry until it has.
      third = await gateway.open(leg2Config(), options()).catch(() => undefined);
      if (!third) await new Promise((r) => setImmediate(r));
    }
    assert.ok(third, 'A took a stream again once its slot was free');
    held.push(third);
    assert.equal(third.workerId, a.workerId);
  });
});
