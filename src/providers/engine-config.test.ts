import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ENGINE_MODULES } from './modules.js';
import { EnginesConfigError, parseEnginesConfig, readEnginesConfig } from './engine-config.js';
import { FAKE_ENGINE_MODULES } from './testing/index.js';

const modules = [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES];
const parse = (raw: unknown, env: NodeJS.ProcessEnv = {}) => parseEnginesConfig(raw, { modules, env });

/** Asserts that parsing fails with exactly `message` (after the common prefix). */
function rejects(raw: unknown, message: string, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(() => parse(raw, env), (err: unknown) => {
    assert.ok(err instanceof EnginesConfigError);
    assert.equal(err.message, `invalid engine configuration: ${message}`);
    return true;
  });
}

describe('engine configuration', () => {
  it('without configuration: the offline three with their default settings', () => {
    const plan = parse(undefined);
    assert.deepEqual(plan.engines.map((e) => [e.id, e.kind, e.module.name]), [
      ['pocketsphinx', 'stt', 'pocketsphinx'], ['apertium', 'mt', 'apertium'], ['espeak-ng', 'tts', 'espeak-ng'],
    ]);
    assert.deepEqual(plan.engines[0]?.settings, { modelDir: '/usr/share/pocketsphinx/model/en-us', idleDecoders: 4, spareDecoders: 1 });
    assert.deepEqual(plan.engines[1]?.settings, { modesDir: '/usr/share/apertium/modes' });
    assert.deepEqual(plan.engines[2]?.settings, { binary: 'espeak-ng' });
    assert.deepEqual(plan.routes, { stt: {}, mt: {}, tts: {} });
  });

  it('a valid configuration: engines, routes, env references resolved, missing kinds get the offline engine', () => {
    const plan = parse({
      engines: [
        { id: 'remote', kind: 'stt', name: 'fake-stt', settings: { languages: ['es', 'de'], apiKey: { env: 'STT_KEY' } } },
        { id: 'pocketsphinx', kind: 'stt', name: 'pocketsphinx', settings: { idleDecoders: 2 } },
      ],
      routes: { stt: { default: ['pocketsphinx', 'remote'], es: ['remote'] } },
    }, { STT_KEY: 'sk-secret' });
    assert.deepEqual(plan.engines.map((e) => e.id), ['remote', 'pocketsphinx', 'apertium', 'espeak-ng']);
    assert.equal((plan.engines[0]?.settings as { apiKey: string }).apiKey, 'sk-secret');
    assert.equal((plan.engines[1]?.settings as { idleDecoders: number }).idleDecoders, 2);
    assert.deepEqual(plan.routes.stt, { default: ['pocketsphinx', 'remote'], es: ['remote'] });
  });

  it('process defaults go under configured settings, overrides over them', () => {
    const raw = { engines: [{ id: 'ps', kind: 'stt', name: 'pocketsphinx', settings: { idleDecoders: 2 } }] };
    const withDefault = parseEnginesConfig(raw, { modules, defaults: { pocketsphinx: { idleDecoders: 8, spareDecoders: 2 } } });
    assert.deepEqual(withDefault.engines[0]?.settings, { modelDir: '/usr/share/pocketsphinx/model/en-us', idleDecoders: 2, spareDecoders: 2 });
    const gateway = parseEnginesConfig(raw, { modules, overrides: { pocketsphinx: { idleDecoders: 0, spareDecoders: 0 } } });
    assert.equal((gateway.engines[0]?.settings as { idleDecoders: number }).idleDecoders, 0);
  });

  it('each error names the engine id and the setting, or the route', () => {
    rejects({ engines: [] }, 'engines: Too small: expected array to have >=1 items');
    rejects({ engines: [{ id: 'X y', kind: 'stt', name: 'pocketsphinx' }] }, 'engines.0.id: lower-case letters, digits, ".", "_" or "-", at most 63');
    rejects({ engines: [{ id: 'a', kind: 'asr', name: 'pocketsphinx' }] }, 'engines.0.kind: Invalid option: expected one of "stt"|"mt"|"tts"');
    rejects({ engines: [{ id: 'a', kind: 'stt', name: 'deepgram' }] }, 'engine "a": unknown stt engine "deepgram"; known: pocketsphinx, openai, soniox, fake-stt');
    rejects({ engines: [{ id: 'a', kind: 'stt', name: 'pocketsphinx' }, { id: 'a', kind: 'mt', name: 'apertium' }] }, 'engine id "a" is used twice');
    rejects({ engines: [{ id: 'ps', kind: 'stt', name: 'pocketsphinx', settings: { idleDecoders: -1 } }] },
      'engine "ps": setting "idleDecoders": Too small: expected number to be >=0');
    rejects({ engines: [{ id: 'ps', kind: 'stt', name: 'pocketsphinx', settings: { idleDecoder: 2 } }] },
      'engine "ps": setting "idleDecoder": Unrecognized key: "idleDecoder"');
    rejects({ engines: [{ id: 'remote', kind: 'stt', name: 'fake-stt', settings: { apiKey: { env: 'NOPE' } } }] },
      'engine "remote": setting "apiKey": environment variable NOPE is not set');
    rejects({ engines: [{ id: 'remote', kind: 'stt', name: 'fake-stt' }], routes: { stt: { es: ['whisper'] } } },
      'routes.stt.es: no engine has the id "whisper"');
    rejects({ engines: [{ id: 'remote', kind: 'stt', name: 'fake-stt' }], routes: { mt: { default: ['remote'] } } },
      'routes.mt.default: engine "remote" is a stt engine, not mt');
    rejects({ engines: [{ id: 'remote', kind: 'stt', name: 'fake-stt' }], routes: { stt: { 'es-ES': ['remote'] } } },
      'routes.stt: key "es-ES" is neither "default" nor a primary language subtag such as "es"');
    rejects({ engines: [{ id: 'm', kind: 'mt', name: 'fake-mt' }], routes: { mt: { es: ['m'] } } },
      'routes.mt: key "es" is neither "default" nor a pair of primary language subtags such as "en-es"');
    rejects({ engines: [{ id: 'm', kind: 'mt', name: 'fake-mt' }], routes: { mt: { default: ['m', 'm'] } } }, 'routes.mt.default: an engine id is listed twice');
    rejects({ engines: [{ id: 'apertium', kind: 'stt', name: 'fake-stt' }] },
      'engine id "apertium" is used by a stt engine; the default mt engine needs it');
    rejects({ engines: [{ id: 'a', kind: 'stt', name: 'fake-stt' }], extra: 1 }, '(top level): Unrecognized key: "extra"');
  });

  it('reads TOLK_ENGINES JSON, a JSON or YAML TOLK_ENGINES_FILE, and refuses both at once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-engines-'));
    try {
      const json = { engines: [{ id: 'a', kind: 'stt', name: 'fake-stt' }] };
      assert.deepEqual(readEnginesConfig({ json: JSON.stringify(json) }), json);
      fs.writeFileSync(path.join(dir, 'engines.json'), JSON.stringify(json));
      assert.deepEqual(readEnginesConfig({ file: path.join(dir, 'engines.json') }), json);
      fs.writeFileSync(path.join(dir, 'engines.yaml'), 'engines:\n  - id: a\n    kind: stt\n    name: fake-stt\n');
      assert.deepEqual(readEnginesConfig({ file: path.join(dir, 'engines.yaml') }), json);
      assert.equal(readEnginesConfig({}), undefined);
      assert.throws(() => readEnginesConfig({ json: '{', file: undefined }), /TOLK_ENGINES: .*JSON/);
      assert.throws(() => readEnginesConfig({ json: '{}', file: 'x.json' }), /set TOLK_ENGINES or TOLK_ENGINES_FILE, not both/);
      assert.throws(() => readEnginesConfig({ file: path.join(dir, 'missing.json') }), /TOLK_ENGINES_FILE .*missing\.json: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/engines.md', () => {
  it('its configuration example is valid', async () => {
    const { parse: parseYaml } = await import('yaml');
    const doc = fs.readFileSync(path.join(import.meta.dirname, '../../docs/engines.md'), 'utf8');
    const example = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'no yaml block under "Configuration"');
    const plan = parseEnginesConfig(parseYaml(example), { env: { OPENAI_API_KEY: 'sk-x' } });
    assert.deepEqual(plan.engines.map((e) => `${e.kind}:${e.id}`), ['stt:whisper', 'stt:pocketsphinx', 'mt:apertium', 'mt:libre', 'tts:espeak-ng']);
    assert.deepEqual(plan.routes.mt, { default: ['apertium', 'libre'], 'en-de': ['libre'] });
  });
});
