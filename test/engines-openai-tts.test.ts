/**
 * Contract of the `openai` TTS engine against the OpenAI-compatible stand-in: the speech request
 * field by field, voice mapping per language, PCM yielded while the body is still arriving (odd
 * chunk boundaries included), and the shared HTTP behaviour (429 → retry, 500 → retryable, 4xx
 * not retried, timeout before and during the body, malformed answer, abort when the consumer stops).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { EngineHttpError } from '../src/providers/http/engine-http-error.js';
import { openaiTtsEngine } from '../src/providers/tts/openai.js';
import type { TtsProvider } from '../src/providers/tts/types.js';
import { SERVER_ERROR, SPEECH_PATH, openAiError, rateLimited, startFakeOpenAi, tone, type FakeOpenAiServer } from './fakes/openai-server.js';

const KEY = 'sk-tts';
const VOICES = { es: { male: 'em_alex', female: 'ef_dora' }, 'en-GB': { male: 'bm_george', female: 'bf_emma' } };

async function collect(blocks: AsyncIterable<Int16Array>): Promise<Int16Array[]> {
  const out: Int16Array[] = [];
  for await (const b of blocks) out.push(b);
  return out;
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

describe('openai TTS engine', () => {
  let server: FakeOpenAiServer;
  const records: EngineRequestRecord[] = [];
  let tts: TtsProvider;
  async function engine(settings: Record<string, unknown> = {}): Promise<TtsProvider> {
    const parsed = openaiTtsEngine.settings.parse({ baseUrl: server.baseUrl, apiKey: KEY, model: 'kokoro', voices: VOICES, retryBaseDelayMs: 1, ...settings });
    return openaiTtsEngine.create(parsed, { id: 'kokoro', onRequest: (r) => records.push(r) });
  }
  before(async () => {
    server = await startFakeOpenAi({ apiKey: KEY });
    tts = await engine({ speed: 1.1 });
  });
  beforeEach(() => {
    server.options.speech = {};
    records.length = 0;
  });
  after(async () => server.close());

  test('capabilities come from the voices setting', () => {
    assert.deepEqual(tts.capabilities, { languages: ['es', 'en-gb', 'en'], voices: ['male', 'female'], sampleRateHz: 24000 });
  });

  test('the request field by field; the voice is the language\'s id for Tolk\'s voice name', async () => {
    const blocks = await collect(tts.synthesize('Hola, ¿qué tal?', { language: 'es-ES', voice: 'female' }));
    const r = server.requestsTo(SPEECH_PATH).at(-1);
    assert.equal(r?.method, 'POST');
    assert.equal(r?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(r?.headers['content-type'], 'application/json');
    assert.deepEqual(r?.json, { model: 'kokoro', input: 'Hola, ¿qué tal?', voice: 'ef_dora', response_format: 'pcm', speed: 1.1 });
    const samples = Int16Array.from(blocks.flatMap((b) => [...b]));
    const expected = tone('Hola, ¿qué tal?'.length * 240, 24000);
    assert.deepEqual(samples, new Int16Array(expected.buffer, expected.byteOffset, expected.length / 2));
    assert.deepEqual(records.map((x) => [x.engine, x.kind, x.outcome]), [['kokoro', 'tts', 'ok']]);

    await collect(tts.synthesize('Good day', { language: 'en-GB', voice: 'male' }));
    await collect(tts.synthesize('Good day', { language: 'en-AU', voice: 'female' }));
    const voices = server.requestsTo(SPEECH_PATH).slice(-2).map((x) => (x.json as { voice: string }).voice);
    assert.deepEqual(voices, ['bm_george', 'bf_emma'], 'en-AU uses the configured English locale');
    const plain = await engine();
    await collect(plain.synthesize('Hola', { language: 'es', voice: 'male' }));
    assert.deepEqual(server.requestsTo(SPEECH_PATH).at(-1)?.json, { model: 'kokoro', input: 'Hola', voice: 'em_alex', response_format: 'pcm' });
  });

  test('audio is yielded as the body arrives, before the server has finished; odd chunk boundaries are joined', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.options.speech = { chunkBytes: 4801, beforeRest: () => released };
    const blocks = tts.synthesize('x'.repeat(40), { language: 'es', voice: 'male' })[Symbol.asyncIterator]();
    const first = await blocks.next();
    // The server is still holding the rest: the first 4801 bytes made 2400 whole samples.
    assert.equal(first.done, false);
    assert.equal(first.value?.length, 2400);
    release();
    let total = first.value?.length ?? 0;
    for (let next = await blocks.next(); !next.done; next = await blocks.next()) total += next.value.length;
    assert.equal(total, 40 * 240);
  });

  test('stopping early aborts the request', async () => {
    const aborts = server.clientAborts;
    server.options.speech = { chunkBytes: 1000, beforeRest: () => new Promise(() => undefined) };
    for await (const block of tts.synthesize('stop after one block', { language: 'es', voice: 'female' })) {
      assert.equal(block.length, 500);
      break;
    }
    await server.waitForClientAborts(aborts + 1);
  });

  test('a language without voices is refused before any request', async () => {
    const seen = server.requests.length;
    await assert.rejects(collect(tts.synthesize('Bonjour', { language: 'fr-FR', voice: 'male' })), /openai TTS has no voice for fr-FR; configured languages: es, en-gb/);
    assert.equal(server.requests.length, seen);
  });

  test('429 then success; 500 after the budget is retryable; 401 is not retried', async () => {
    server.script(SPEECH_PATH, rateLimited(0));
    assert.ok((await collect(tts.synthesize('hola', { language: 'es', voice: 'male' }))).length > 0);
    assert.deepEqual(records.map((r) => r.outcome), ['retry', 'ok']);
    server.script(SPEECH_PATH, SERVER_ERROR, SERVER_ERROR, SERVER_ERROR);
    const e = await rejection(collect(tts.synthesize('hola', { language: 'es', voice: 'male' })));
    assert.deepEqual([e.status, e.retryable, e.attempts], [500, true, 3]);
    server.script(SPEECH_PATH, openAiError(401, 'Incorrect API key provided: sk-xx****.', 'invalid_request_error', 'invalid_api_key'));
    const denied = await rejection(collect(tts.synthesize('hola', { language: 'es', voice: 'male' })));
    assert.deepEqual([denied.status, denied.retryable, denied.attempts], [401, false, 1]);
  });

  test('no response, and a body that stalls, both time out', async () => {
    const quick = await engine({ timeoutMs: 150, maxRetries: 0 });
    server.script(SPEECH_PATH, 'hang');
    assert.equal((await rejection(collect(quick.synthesize('hola', { language: 'es', voice: 'male' })))).code, 'timeout');
    server.options.speech = { chunkBytes: 1000, beforeRest: () => new Promise(() => undefined) };
    const got: Int16Array[] = [];
    const stalled = await rejection((async () => {
      for await (const b of quick.synthesize('hola a todos', { language: 'es', voice: 'male' })) got.push(b);
    })());
    assert.deepEqual([stalled.code, stalled.retryable, got.length], ['timeout', true, 1]);
  });

  test('an answer that is not audio is a clear, non-retryable error', async () => {
    server.script(SPEECH_PATH, { status: 200, body: { detail: 'queued' } });
    const e = await rejection(collect(tts.synthesize('hola', { language: 'es', voice: 'male' })));
    assert.deepEqual([e.code, e.retryable], ['malformed_response', false]);
    assert.match(e.message, /expected raw pcm audio, got application\/json/);
  });

  test('settings: voices need both names and a language tag key', () => {
    assert.throws(() => openaiTtsEngine.settings.parse({ baseUrl: 'http://x/v1', voices: { es: { male: 'a' } } }), /female/);
    assert.throws(() => openaiTtsEngine.settings.parse({ baseUrl: 'http://x/v1', voices: { 'not a tag': { male: 'a', female: 'b' } } }), /language tags/);
    assert.throws(() => openaiTtsEngine.settings.parse({ baseUrl: 'http://x/v1', voices: {} }), /at least one language/);
  });
});
