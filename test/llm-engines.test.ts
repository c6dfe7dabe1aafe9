import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { EnginesConfigError, parseEnginesConfig } from '../src/providers/engine-config.js';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { createEngines } from '../src/providers/index.js';
import { createChatModel, LLM_SHORTHAND_ID, withLlmShorthand } from '../src/providers/llm/chat-engines.js';
import { ENGINE_MODULES } from '../src/providers/modules.js';
import { FAKE_ENGINE_MODULES } from '../src/providers/testing/index.js';
import { FakeChatCompletions } from './fakes/chat-completions.js';

const modules = [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES];
const SHORTHAND = { baseUrl: 'http://127.0.0.1:9/v1', model: 'gpt-4o-mini', apiKey: 'sk-old', timeoutMs: 30_000 };

describe('llm engines in the routing configuration', () => {
  it('an llm list alone is valid: the offline speech engines plus the chat model, which has no routes', () => {
    const plan = parseEnginesConfig({ llm: [{ id: 'agent', name: 'openai-chat', settings: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }] }, { modules });
    assert.deepEqual(plan.engines.map((e) => [e.id, e.kind, e.module.name]), [
      ['agent', 'llm', 'openai-chat'], ['pocketsphinx', 'stt', 'pocketsphinx'], ['apertium', 'mt', 'apertium'], ['espeak-ng', 'tts', 'espeak-ng'],
    ]);
    assert.deepEqual(plan.engines[0]?.settings, { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 30_000, maxRetries: 2, retryBaseDelayMs: 200, maxRetryAfterMs: 5000 });
  });

  it('errors name the llm engine and its setting; ids are unique across both lists', () => {
    const message = (raw: unknown): string => {
      try {
        parseEnginesConfig(raw, { modules });
      } catch (err) {
        assert.ok(err instanceof EnginesConfigError);
        return err.message;
      }
      return 'accepted';
    };
    assert.equal(message({}), 'invalid engine configuration: engines: required: 1–100 engine instances (or an llm list)');
    assert.equal(message({ llm: [{ id: 'a', name: 'ollama' }] }), 'invalid engine configuration: engine "a": unknown llm engine "ollama"; known: openai-chat');
    assert.equal(message({ llm: [{ id: 'a', name: 'openai-chat', settings: { baseUrl: 'http://x/v1' } }] }), 'invalid engine configuration: engine "a": setting "model": Invalid input: expected string, received undefined');
    assert.equal(message({ engines: [{ id: 'a', kind: 'stt', name: 'fake-stt' }], llm: [{ id: 'a', name: 'openai-chat', settings: { baseUrl: 'http://x/v1', model: 'm' } }] }), 'invalid engine configuration: engine id "a" is used twice');
  });

  it('createEngines validates llm engines but starts and announces only the speech engines', async () => {
    const engines = await createEngines({
      engines: [{ id: 'stt', kind: 'stt', name: 'fake-stt' }, { id: 'mt', kind: 'mt', name: 'fake-mt' }, { id: 'tts', kind: 'tts', name: 'fake-tts' }],
      llm: [{ id: 'agent', name: 'openai-chat', settings: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }],
    }, { modules, prewarm: false });
    assert.deepEqual(engines.instances.map((i) => i.id), ['stt', 'mt', 'tts']);
  });
});

describe('the deprecated TOLK_LLM_* shorthand', () => {
  it('stands for one llm engine "tolk-llm" when the configuration has no llm list', () => {
    const alone = withLlmShorthand(undefined, SHORTHAND);
    assert.equal(alone.shorthand, 'used');
    assert.deepEqual(alone.config, { llm: [{ id: LLM_SHORTHAND_ID, name: 'openai-chat', settings: { baseUrl: SHORTHAND.baseUrl, model: 'gpt-4o-mini', timeoutMs: 30_000, apiKey: 'sk-old' } }] });
    const speech = { engines: [{ id: 'libre', kind: 'mt', name: 'libretranslate', settings: { baseUrl: 'http://127.0.0.1:5000' } }] };
    assert.deepEqual(withLlmShorthand(speech, SHORTHAND).config, { ...speech, llm: (alone.config as { llm: unknown }).llm });
    assert.deepEqual(createChatModel(undefined, { shorthand: SHORTHAND, modules }).shorthand, 'used');
  });

  it('tolk engines check lists it as the server runs it', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TOLK_LLM_BASE_URL: 'http://127.0.0.1:9/v1' };
    delete env.TOLK_ENGINES;
    delete env.TOLK_ENGINES_FILE;
    const cli = path.resolve('src/cli/main.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'engines', 'check'], { encoding: 'utf8', timeout: 60_000, env });
    assert.deepEqual(stdout.trim().split('\n').slice(0, 2), ['configuration is valid', 'engine tolk-llm: llm openai-chat']);
  });

  it('is ignored when the configuration declares an llm list, and unset without TOLK_LLM_BASE_URL', () => {
    const declared = { llm: [{ id: 'agent', name: 'openai-chat', settings: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } }] };
    assert.deepEqual(withLlmShorthand(declared, SHORTHAND), { config: declared, shorthand: 'ignored' });
    assert.deepEqual(withLlmShorthand(undefined, { ...SHORTHAND, baseUrl: undefined }), { config: undefined, shorthand: 'unset' });
    const none = createChatModel(undefined, { shorthand: { ...SHORTHAND, baseUrl: undefined }, modules });
    assert.equal(none.model, undefined, 'no llm engine: the AI agent modes answer 422');
  });
});

describe('a chat model of several llm engines', () => {
  const good = new FakeChatCompletions(() => 'from the second');
  const refusing = new FakeChatCompletions(() => 'never', 'sk-other');
  let goodUrl = '';
  let refusingUrl = '';
  before(async () => {
    goodUrl = await good.listen();
    refusingUrl = await refusing.listen();
  });
  after(async () => {
    await good.close();
    await refusing.close();
  });

  it('tries them in configuration order, each attempt recorded under its id', async () => {
    const records: EngineRequestRecord[] = [];
    const { model } = createChatModel({
      llm: [
        { id: 'first', name: 'openai-chat', settings: { baseUrl: refusingUrl, model: 'a', apiKey: 'sk-wrong' } },
        { id: 'second', name: 'openai-chat', settings: { baseUrl: goodUrl, model: 'b', temperature: 0.3, maxTokens: 64 } },
      ],
    }, { modules, onRequest: (r) => records.push(r) });
    assert.ok(model);
    assert.equal(await model.chat([{ role: 'user', content: 'hi' }]), 'from the second');
    assert.deepEqual(records.map((r) => [r.engine, r.kind, r.outcome]), [['first', 'llm', 'error'], ['second', 'llm', 'ok']]);
    assert.deepEqual(good.requests[0]?.body, { model: 'b', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3, max_tokens: 64 });
    await model.close();
  });

  it('names every engine\'s failure when none answers', async () => {
    const { model } = createChatModel({
      llm: [
        { id: 'first', name: 'openai-chat', settings: { baseUrl: refusingUrl, model: 'a' } },
        { id: 'second', name: 'openai-chat', settings: { baseUrl: refusingUrl, model: 'b' } },
      ],
    }, { modules });
    await assert.rejects(model!.chat([{ role: 'user', content: 'hi' }]), /^Error: no engine could answer the chat \(first: .*401.*; second: .*401.*\)$/);
  });
});
