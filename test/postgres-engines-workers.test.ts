/**
 * Engine-aware placement across processes' roles (docs/engines.md "Organizations"): workers
 * announce their engine instances in the Redis worker registry, and a gateway sends a stream whose
 * organization chose an engine only to a worker that runs it. Needs Redis (`TOLK_TEST_REDIS_URL`);
 * uses its own Redis database number so other runs' workers are not in its registry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { setOrganizationAdmission } from '../src/domain/admission.js';
import { closeEngines, createEngines, type RoutedEngines } from '../src/providers/index.js';
import { ENGINE_MODULES } from '../src/providers/modules.js';
import { FAKE_ENGINE_MODULES, speechLikePcm } from '../src/providers/testing/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startWorker, type RunningWorker } from '../src/worker-server.js';
import { testRedisUrl } from './helpers.js';

const skip = testRedisUrl() ? false : 'no TOLK_TEST_REDIS_URL: engine placement needs the worker registry in Redis';

const LOCAL = { id: 'local', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['from local'] } };
const REMOTE = { id: 'remote', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['from remote'] } };
const REST = [{ id: 'mt', kind: 'mt', name: 'fake-mt' }, { id: 'tts', kind: 'tts', name: 'fake-tts' }];

function fakes(stt: object[]): Promise<RoutedEngines> {
  return createEngines({ engines: [...stt, ...REST] }, { modules: [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES], prewarm: false });
}

describe('a gateway places streams on workers that run their engines', { skip }, () => {
  const redisUrl = `${(testRedisUrl() ?? '').replace(/\/\d*$/, '')}/${11 + Math.floor(Math.random() * 5)}`;
  const secret = randomBytes(24).toString('hex');
  const engines: RoutedEngines[] = [];
  const workers: RunningWorker[] = [];
  let gateway: RunningServer;
  before(async () => {
    for (const stt of [[LOCAL], [LOCAL, REMOTE]]) {
      const e = await fakes(stt);
      engines.push(e);
      workers.push(await startWorker(loadConfig({}, { role: 'worker', port: 0, host: '127.0.0.1', redisUrl, workerSecret: secret, logLevel: 'warn' }), { engines: e }));
    }
    const own = await fakes([LOCAL, REMOTE]);
    engines.push(own);
    gateway = await startServer(loadConfig({}, { role: 'gateway', port: 0, host: '127.0.0.1', dataDir: 'memory://', redisUrl, workerSecret: secret, logLevel: 'warn' }), { engines: own });
  });
  after(async () => {
    await gateway?.close();
    for (const w of workers) await w.close();
    for (const e of engines) await closeEngines(e);
  });

  async function stream(): Promise<{ finals: string[]; errors: string[] }> {
    const key = await fetchSessionKey(gateway.url, gateway.firstOwnerKey ?? '');
    const samples = speechLikePcm([{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 300 }], { sampleRateHz: 16000 });
    const result = await streamAudio({ url: vtUrl(gateway.url, key), config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' }, samples, sampleRateHz: 16000, realtime: false });
    return {
      finals: result.events.flatMap((e) => (e.kind === 'transcript' && e.final ? [e.text] : [])),
      errors: result.events.flatMap((e) => (e.kind === 'error' ? [`${e.code}: ${e.description}`] : [])),
    };
  }

  it('routes by configuration without a choice; only the worker with the chosen engine serves it; none runs an unknown one', async () => {
    assert.deepEqual(await stream(), { finals: ['from local'], errors: [] });
    await setOrganizationAdmission(gateway.ctx.db, 'default', { engines: { stt: 'remote' } });
    for (let i = 0; i < 4; i++) assert.deepEqual(await stream(), { finals: ['from remote'], errors: [] }, `stream ${i}`);
    await setOrganizationAdmission(gateway.ctx.db, 'default', { engines: { stt: 'soniox' } });
    assert.deepEqual(await stream(), { finals: [], errors: ['400: Unsupported provider: no translation worker runs stt "soniox", translator "mt", tts "tts"'] });
  });
});
