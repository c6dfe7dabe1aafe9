/**
 * Per-organization engine choice (docs/engines.md "Organizations"): what `tolk orgs set --stt`
 * stores is merged into leg 2's `stt.provider` at the gateway (spec 002 Part 2 step 3), the worker
 * serves the stream with that engine first, a provider it does not run is refused with the clear
 * 400, and a gateway only sends streams to workers that announce the engines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { setOrganizationAdmission } from '../src/domain/admission.js';
import { closeEngines, createEngines, type RoutedEngines } from '../src/providers/index.js';
import { ENGINE_MODULES } from '../src/providers/modules.js';
import { FAKE_ENGINE_MODULES, speechLikePcm } from '../src/providers/testing/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { workerRunsProviders } from '../src/state/worker-registry.js';
import { announcedEngines } from '../src/worker-server.js';

describe('an organization\'s engine choice', () => {
  let engines: RoutedEngines;
  let server: RunningServer;
  before(async () => {
    engines = await createEngines({
      engines: [
        { id: 'local', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['from local'] } },
        { id: 'remote', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['from remote'] } },
        { id: 'mt', kind: 'mt', name: 'fake-mt' },
        { id: 'tts', kind: 'tts', name: 'fake-tts' },
      ],
    }, { modules: [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES], prewarm: false });
    server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' }), { engines });
  });
  after(async () => {
    await server?.close();
    if (engines) await closeEngines(engines);
  });

  async function stream(): Promise<{ finals: string[]; errors: string[] }> {
    const key = await fetchSessionKey(server.url, server.firstOwnerKey ?? '');
    const samples = speechLikePcm([{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 300 }], { sampleRateHz: 16000 });
    const result = await streamAudio({ url: vtUrl(server.url, key), config: { source_language: 'en-US', target_language: 'es-ES', voice: 'male' }, samples, sampleRateHz: 16000, realtime: false });
    return {
      finals: result.events.flatMap((e) => (e.kind === 'transcript' && e.final ? [e.text] : [])),
      errors: result.events.flatMap((e) => (e.kind === 'error' ? [`${e.code}: ${e.description}`] : [])),
    };
  }

  it('routes by the configuration without a choice, by the organization\'s engine with one, and refuses an engine no worker runs', async () => {
    assert.equal(engines.stt.name, 'auto', 'two recognizers: leg 2 asks the worker to route');
    assert.deepEqual(await stream(), { finals: ['from local'], errors: [] });
    await setOrganizationAdmission(server.ctx.db, 'default', { engines: { stt: 'remote' } });
    assert.deepEqual(await stream(), { finals: ['from remote'], errors: [] });
    await setOrganizationAdmission(server.ctx.db, 'default', { engines: { stt: 'soniox' } });
    assert.deepEqual(await stream(), { finals: [], errors: ['400: Unsupported stt provider "soniox": this worker runs local, remote'] });
    await setOrganizationAdmission(server.ctx.db, 'default', { engines: { stt: null } });
    assert.deepEqual(await stream(), { finals: ['from local'], errors: [] });
  });

  it('workers announce their engines; a gateway picks only workers that run a stream\'s providers', () => {
    const announced = announcedEngines(engines);
    assert.deepEqual(announced.map((e) => `${e.kind}:${e.id}:${e.name}`), ['stt:local:fake-stt', 'stt:remote:fake-stt', 'mt:mt:fake-mt', 'tts:tts:fake-tts']);
    const worker = { engines: announced };
    assert.equal(workerRunsProviders(worker, { stt: 'auto', mt: 'mt', tts: 'fake-tts' }), true, 'auto, an id, a module name');
    assert.equal(workerRunsProviders(worker, { stt: 'remote', mt: 'auto', tts: 'auto' }), true);
    assert.equal(workerRunsProviders(worker, { stt: 'whisper', mt: 'auto', tts: 'auto' }), false);
    assert.equal(workerRunsProviders(worker, { stt: 'auto', mt: 'remote', tts: 'auto' }), false, 'an stt id does not serve as translator');
    assert.equal(workerRunsProviders({}, { stt: 'whisper', mt: 'x', tts: 'y' }), true, 'a worker that announces nothing is not filtered');
  });
});
