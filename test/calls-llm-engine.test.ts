import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { createFakeEngines, pcmBlocks, speechLikePcm } from '../src/providers/testing/index.js';
import { startServer } from '../src/server.js';
import { startCallsServer, StreamClient, type CallsTestServer } from './calls-support.js';
import { FakeChatCompletions } from './fakes/chat-completions.js';

/** The value of one `/metrics` sample line, or undefined when it is absent. */
function sample(metrics: string, line: string): number | undefined {
  const found = metrics.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('ai_agent through an llm engine declared only in TOLK_ENGINES', () => {
  let server: CallsTestServer;
  const llm = new FakeChatCompletions((messages) => `Engine heard: ${messages.at(-1)?.content ?? ''}`, 'sk-engine-key');
  before(async () => {
    const baseUrl = await llm.listen();
    const engines = { llm: [{ id: 'agent-llm', name: 'openai-chat', settings: { baseUrl, apiKey: 'sk-engine-key', model: 'engine-model', retryBaseDelayMs: 1 } }] };
    server = await startCallsServer({ env: { TOLK_ENGINES: JSON.stringify(engines) }, fakes: { stt: { script: ['where is my order'] } } });
  });
  after(async () => {
    await server.close();
    await llm.close();
  });

  it('the engine answers the customer (its model, key and retries), and its attempts show in tolk_engine_* by its id', async () => {
    const res = await server.call('POST', '/v1/sessions', { mode: 'ai_agent', source_language: 'en', target_language: 'en', ai_agent: { system_prompt: 'Be brief.' } });
    assert.equal(res.status, 201, res.text);
    const customer = await StreamClient.connect(`${res.json.stream.url}?token=${res.json.stream.token}`);
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    llm.failNext(1);
    const pcm = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    const reply = await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent', 'the agent\'s reply');
    assert.equal(reply.text, 'Engine heard: where is my order');
    assert.equal(llm.failed, 1, 'the first attempt was answered 503');
    assert.equal(llm.requests.length, 1, 'and tried again once');
    const request = llm.requests[0];
    assert.equal(request?.authorization, 'Bearer sk-engine-key');
    assert.equal(request?.body.model, 'engine-model');
    assert.equal(request?.body.max_tokens, 300);
    assert.equal(request?.body.temperature, undefined, 'no temperature unless the session or the engine sets one');
    assert.deepEqual(request?.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'where is my order' }]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(sample(metrics, 'tolk_engine_requests_total{engine="agent-llm",outcome="retry"}'), 1);
    assert.equal(sample(metrics, 'tolk_engine_requests_total{engine="agent-llm",outcome="ok"}'), 1);
    assert.equal(sample(metrics, 'tolk_engine_request_duration_ms_count{engine="agent-llm"}'), 2);
    await server.call('POST', `/v1/sessions/${res.json.id}/end`);
  });

  it('a session\'s ai_agent.model goes over the engine\'s model', async () => {
    const res = await server.call('POST', '/v1/sessions', { mode: 'ai_agent', source_language: 'en', target_language: 'en', ai_agent: { system_prompt: 'Be brief.', model: 'session-model', greeting: 'Hi.' } });
    const customer = await StreamClient.connect(`${res.json.stream.url}?token=${res.json.stream.token}`);
    await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent', 'the greeting');
    const seen = llm.requests.length;
    const pcm = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent' && m.text !== 'Hi.', 'the reply');
    assert.equal(llm.requests[seen]?.body.model, 'session-model');
    await server.call('POST', `/v1/sessions/${res.json.id}/end`);
  });
});

describe('the deprecated TOLK_LLM_* shorthand', () => {
  const llm = new FakeChatCompletions(() => 'Shorthand reply');
  let baseUrl = '';
  before(async () => {
    baseUrl = await llm.listen();
  });
  after(() => llm.close());

  /** Starts a server with `env`, returns its warning lines and whether it takes ai_agent sessions. */
  async function startWith(env: NodeJS.ProcessEnv): Promise<{ warnings: string[]; created: number }> {
    const lines: string[] = [];
    const config = loadConfig(env, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', vad: 'energy' });
    const server = await startServer(config, { engines: createFakeEngines(), logStream: { write: (line: string) => void lines.push(line) } });
    try {
      const res = await fetch(`${server.url}/v1/sessions`, {
        method: 'POST', headers: { authorization: `Bearer ${server.firstOwnerKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'help_chat_voice', source_language: 'en', target_language: 'en' }),
      });
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg.includes('TOLK_LLM')).map((l) => l.msg);
      return { warnings, created: res.status };
    } finally {
      await server.close();
    }
  }

  it('runs as engine tolk-llm with one warning at start-up; ignored, with a warning, when TOLK_ENGINES has an llm list', async () => {
    const alone = await startWith({ TOLK_LLM_BASE_URL: baseUrl, TOLK_LLM_MODEL: 'old-model' });
    assert.equal(alone.created, 201);
    assert.deepEqual(alone.warnings, ['TOLK_LLM_BASE_URL is deprecated: it runs as engine "tolk-llm" (kind llm, name openai-chat); declare an llm engine in TOLK_ENGINES instead (docs/engines.md "Engines: openai-chat (LLM)")']);
    const both = await startWith({
      TOLK_LLM_BASE_URL: baseUrl,
      TOLK_ENGINES: JSON.stringify({ llm: [{ id: 'agent', name: 'openai-chat', settings: { baseUrl, model: 'm' } }] }),
    });
    assert.equal(both.created, 201);
    assert.deepEqual(both.warnings, ['TOLK_LLM_BASE_URL is deprecated and ignored: TOLK_ENGINES declares an llm engine (docs/engines.md "Engines: openai-chat (LLM)")']);
  });
});
