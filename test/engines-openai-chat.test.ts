/**
 * Contract of the `openai-chat` MT engine against the OpenAI-compatible stand-in: the chat
 * completion request field by field (model, messages, temperature, Authorization), the system
 * prompt's rules, placeholders back to slots, reply cleaning, and the shared HTTP behaviour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { EngineHttpError } from '../src/providers/http/engine-http-error.js';
import { cleanReply, openaiChatEngine } from '../src/providers/mt/openai-chat.js';
import type { MtProvider } from '../src/providers/mt/types.js';
import { CHAT_PATH, SERVER_ERROR, openAiError, rateLimited, startFakeOpenAi, type ChatRequestBody, type FakeOpenAiServer } from './fakes/openai-server.js';

const KEY = 'sk-chat';
const EN_ES = { source: 'en', target: 'es' };
const WORDS: Record<string, string> = { the: 'el', is: 'es', great: 'genial', hello: 'hola', and: 'y' };

/** A "model" that translates word for word and keeps {{n}} placeholders, replying as chat models often do. */
function reply(body: ChatRequestBody): string {
  const user = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const translated = user.replace(/[\p{L}]+/gu, (w) => WORDS[w.toLowerCase()] ?? w);
  return `Here is the translation:\n"${translated}"`;
}

async function rejection(promise: Promise<unknown>): Promise<EngineHttpError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof EngineHttpError, `expected an EngineHttpError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('openai-chat MT engine', () => {
  let server: FakeOpenAiServer;
  const records: EngineRequestRecord[] = [];
  let mt: MtProvider;
  async function engine(settings: Record<string, unknown> = {}): Promise<MtProvider> {
    const parsed = openaiChatEngine.settings.parse({ baseUrl: server.baseUrl, apiKey: KEY, model: 'qwen2.5-7b-instruct', languages: ['en', 'es', 'de'], retryBaseDelayMs: 1, ...settings });
    return openaiChatEngine.create(parsed, { id: 'llm', onRequest: (r) => records.push(r) });
  }
  before(async () => {
    server = await startFakeOpenAi({ apiKey: KEY, chatReply: reply });
    mt = await engine();
  });
  after(async () => server.close());

  test('pairs are every ordered pair of the configured languages; nothing is sent at create', () => {
    assert.deepEqual(mt.capabilities.pairs, [
      { source: 'en', target: 'es' }, { source: 'en', target: 'de' }, { source: 'es', target: 'en' },
      { source: 'es', target: 'de' }, { source: 'de', target: 'en' }, { source: 'de', target: 'es' },
    ]);
    assert.equal(server.requests.length, 0);
  });

  test('the request field by field; the reply is cleaned to the translation', async () => {
    assert.deepEqual(await mt.translate(['Hello'], EN_ES), ['hola']);
    const r = server.requestsTo(CHAT_PATH).at(-1);
    assert.equal(r?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(r?.headers['content-type'], 'application/json');
    const body = r?.json as ChatRequestBody & Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['messages', 'model', 'temperature']);
    assert.equal(body.model, 'qwen2.5-7b-instruct');
    assert.equal(body.temperature, 0);
    assert.deepEqual(body.messages?.map((m) => m.role), ['system', 'user']);
    assert.equal(body.messages?.[1]?.content, 'Hello');
    const system = body.messages?.[0]?.content ?? '';
    assert.match(system, /Translate the user's message from English \(en\) to Spanish \(es\)\./);
    assert.match(system, /Reply with the translation only/);
    assert.doesNotMatch(system, /Placeholders/, 'no placeholder rule without slots');
  });

  test('slots go as {{n}} placeholders with the rule and their target terms, and come back as slots', async () => {
    const out = await mt.translate(['The ', { slot: 0 }, ' is great and ', { slot: 1 }], EN_ES, { slotTerms: ['quote-part', 'courriel'] });
    assert.deepEqual(out, ['el ', { slot: 0 }, ' es genial y ', { slot: 1 }]);
    const body = server.requestsTo(CHAT_PATH).at(-1)?.json as ChatRequestBody;
    assert.equal(body.messages?.[1]?.content, 'The {{0}} is great and {{1}}');
    const system = body.messages?.[0]?.content ?? '';
    assert.match(system, /Placeholders such as \{\{0\}\} stand for protected terms: copy each one unchanged, exactly once/);
    assert.match(system, /They stand for these Spanish terms: \{\{0\}\} = "quote-part"; \{\{1\}\} = "courriel"\./);
  });

  test('settings reach the request: max_tokens, temperature, instructions', async () => {
    const tuned = await engine({ maxTokens: 256, temperature: 0.2, instructions: 'Use the formal register (usted).' });
    await tuned.translate(['hello'], { source: 'en', target: 'de' });
    const body = server.requestsTo(CHAT_PATH).at(-1)?.json as ChatRequestBody & { max_tokens?: number };
    assert.deepEqual([body.max_tokens, body.temperature], [256, 0.2]);
    assert.match(body.messages?.[0]?.content ?? '', /to German \(de\)\.[\s\S]*Use the formal register \(usted\)\.$/);
  });

  test('reply cleaning: reasoning, labels, quotes', () => {
    assert.equal(cleanReply('<think>the user wants Spanish</think>\n«Hola, mundo»'), 'Hola, mundo');
    assert.equal(cleanReply('Translation: "Guten Tag"'), 'Guten Tag');
    assert.equal(cleanReply('Sure! Here is the translation: “Bonjour”'), 'Bonjour');
    assert.equal(cleanReply('Spanish translation: hola'), 'hola');
    assert.equal(cleanReply('"Sí", dijo. "No"'), '"Sí", dijo. "No"', 'quotes that do not wrap the whole text stay');
  });

  test('an unsupported pair is refused without a request', async () => {
    const seen = server.requests.length;
    await assert.rejects(mt.translate(['hola'], { source: 'es', target: 'fr' }), /openai-chat has no es→fr pair; configured languages: en, es, de/);
    assert.equal(server.requests.length, seen);
  });

  test('429 then success; 500 after the budget is retryable; 400 is not retried', async () => {
    records.length = 0;
    server.script(CHAT_PATH, rateLimited(0));
    assert.deepEqual(await mt.translate(['hello'], EN_ES), ['hola']);
    assert.deepEqual(records.map((r) => r.outcome), ['retry', 'ok']);
    server.script(CHAT_PATH, SERVER_ERROR, SERVER_ERROR, SERVER_ERROR);
    const e = await rejection(mt.translate(['hello'], EN_ES));
    assert.deepEqual([e.status, e.retryable, e.attempts], [500, true, 3]);
    server.script(CHAT_PATH, openAiError(400, "This model's maximum context length is 4096 tokens.", 'invalid_request_error', 'context_length_exceeded'));
    const bad = await rejection(mt.translate(['hello'], EN_ES));
    assert.deepEqual([bad.status, bad.retryable, bad.attempts, bad.vendorCode], [400, false, 1, 'context_length_exceeded']);
  });

  test('timeout, malformed body and an empty reply are clear errors', async () => {
    const quick = await engine({ timeoutMs: 100, maxRetries: 0 });
    server.script(CHAT_PATH, 'hang');
    assert.equal((await rejection(quick.translate(['hello'], EN_ES))).code, 'timeout');
    server.script(CHAT_PATH, { status: 200, body: { choices: [] } });
    const e = await rejection(quick.translate(['hello'], EN_ES));
    assert.deepEqual([e.code, e.retryable], ['malformed_response', false]);
    assert.match(e.message, /expected choices\[0\]\.message\.content to be a string/);
    server.script(CHAT_PATH, { status: 200, body: { choices: [{ index: 0, message: { role: 'assistant', content: '  ""  ' }, finish_reason: 'stop' }] } });
    assert.match((await rejection(quick.translate(['hello'], EN_ES))).message, /the reply is empty/);
  });

  test('the caller\'s signal aborts the request in flight', async () => {
    server.script(CHAT_PATH, 'hang');
    const aborts = server.clientAborts;
    const seen = server.requests.length;
    const controller = new AbortController();
    const pending = rejection(mt.translate(['hello'], EN_ES, { signal: controller.signal }));
    await server.waitForRequests(seen + 1);
    controller.abort();
    assert.equal((await pending).code, 'aborted');
    await server.waitForClientAborts(aborts + 1);
  });

  test('settings: a model and at least two languages are required', () => {
    assert.throws(() => openaiChatEngine.settings.parse({ baseUrl: 'http://x/v1', languages: ['en', 'es'] }), /model/);
    assert.throws(() => openaiChatEngine.settings.parse({ baseUrl: 'http://x/v1', model: 'm', languages: ['en'] }), /too_small|>=2|at least/i);
  });
});
