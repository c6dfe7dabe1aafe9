import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAKE_TTS_FREQUENCY_HZ, pcmBlocks, speechLikePcm, toneFrequencyHz } from '../src/providers/testing/index.js';
import { startCallsServer, StreamClient, type CallsTestServer, type Json } from './calls-support.js';
import { FakeChatCompletions } from './fakes/chat-completions.js';

describe('ai_agent and help_chat_voice through an OpenAI-compatible chat engine', () => {
  let server: CallsTestServer;
  const llm = new FakeChatCompletions((messages) => `You said: ${messages.at(-1)?.content ?? ''}`, 'sk-test-key');
  before(async () => {
    const baseUrl = await llm.listen();
    server = await startCallsServer({
      env: { TOLK_LLM_BASE_URL: baseUrl, TOLK_LLM_MODEL: 'test-model', TOLK_LLM_API_KEY: 'sk-test-key' },
      fakes: { stt: { script: ['where is my order'] } },
    });
  });
  after(async () => {
    await server.close();
    await llm.close();
  });

  it('the customer\'s final goes to the engine with the system prompt; the reply is the agent\'s transcript and voice', async () => {
    const res = await server.call('POST', '/v1/sessions', {
      mode: 'ai_agent', source_language: 'en', target_language: 'en',
      ai_agent: { system_prompt: 'You are Acme support. Be brief.', temperature: 0.2, greeting: 'Hello, Acme support.' },
    });
    assert.equal(res.status, 201, res.text);
    const s = res.json;
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    const greeting = await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent', 'the greeting');
    assert.equal(greeting.text, 'Hello, Acme support.');
    const pcm = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    const reply = await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent' && m.text !== greeting.text, 'the agent\'s reply');
    assert.deepEqual([reply.text, reply.language, reply.is_final], ['You said: where is my order', 'en', true]);
    assert.equal(llm.requests.length, 1);
    const request = llm.requests[0];
    assert.equal(request?.authorization, 'Bearer sk-test-key');
    assert.equal(request?.body.model, 'test-model');
    assert.equal(request?.body.temperature, 0.2);
    assert.equal(request?.body.max_tokens, 300);
    assert.deepEqual(request?.body.messages, [
      { role: 'system', content: 'You are Acme support. Be brief.' },
      { role: 'assistant', content: 'Hello, Acme support.' },
      { role: 'user', content: 'where is my order' },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const audio = customer.of('audio').map((m: Json) => Buffer.from(m.data as string, 'base64'));
    const samples = new Int16Array(Buffer.concat(audio).buffer.slice(0));
    assert.ok(samples.length > 16000, 'the customer hears the agent');
    assert.ok(Math.abs(toneFrequencyHz(samples.subarray(800, -800), 16000) - FAKE_TTS_FREQUENCY_HZ.female) < 15);
    assert.equal(customer.of('translation').length, 0, 'nothing is translated in an AI agent call');
    await server.call('POST', `/v1/sessions/${s.id}/end`);
    const transcript = (await server.call('GET', `/v1/sessions/${s.id}/transcript`)).json;
    assert.deepEqual(transcript.segments.map((g: Json) => [g.speaker, g.text]), [
      ['agent', 'Hello, Acme support.'], ['customer', 'where is my order'], ['agent', 'You said: where is my order'],
    ]);
  });

  it('help_chat_voice without a system prompt uses the help-desk prompt', async () => {
    const s = (await server.call('POST', '/v1/sessions', { mode: 'help_chat_voice', source_language: 'en', target_language: 'en' })).json;
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    const before = llm.requests.length;
    const pcm = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    await customer.waitFor((m) => m.type === 'transcript' && m.speaker === 'agent', 'the reply');
    const system = llm.requests[before]?.body.messages[0];
    assert.equal(system?.role, 'system');
    assert.match(system?.content ?? '', /help-desk assistant/);
    await server.call('POST', `/v1/sessions/${s.id}/end`);
  });
});
