/**
 * Contract of the `openai` STT engine against a stand-in written from OpenAI's transcription API:
 * the multipart request field by field, the verbose_json reading (text, language, confidence), and
 * the shared HTTP behaviour (429 → retry, 5xx → retryable error, timeout, malformed body, 4xx not
 * retried, abort when the stream closes, one metrics record per attempt).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readWav } from '../src/audio/wav.js';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { EngineHttpError } from '../src/providers/http/engine-http-error.js';
import { openaiSttEngine } from '../src/providers/stt/openai.js';
import type { SttProvider, SttTranscript } from '../src/providers/stt/types.js';
import { SERVER_ERROR, TRANSCRIPTIONS_PATH, openAiError, rateLimited, startFakeOpenAi, type FakeOpenAiServer } from './fakes/openai-server.js';

const API_KEY = 'sk-test-123';

/** 0.5 s of a 200 Hz tone at 16 kHz. */
function utterance(samples = 8000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 200 * i) / 16000)));
}

async function engine(server: FakeOpenAiServer, settings: Record<string, unknown> = {}, records: EngineRequestRecord[] = []): Promise<SttProvider> {
  const parsed = openaiSttEngine.settings.parse({ baseUrl: server.baseUrl, apiKey: API_KEY, model: 'Systran/faster-whisper-small', retryBaseDelayMs: 1, ...settings });
  return openaiSttEngine.create(parsed, { id: 'whisper-local', onRequest: (r) => records.push(r) });
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

describe('openai STT engine', () => {
  let server: FakeOpenAiServer;
  before(async () => {
    server = await startFakeOpenAi({ apiKey: API_KEY });
  });
  after(async () => server.close());

  test('one multipart request per utterance, field by field; the final carries text, language and confidence', async () => {
    const records: EngineRequestRecord[] = [];
    const stt = await engine(server, {}, records);
    assert.deepEqual(
      { interim: stt.capabilities.interimResults, vocabulary: stt.capabilities.vocabulary, rate: stt.capabilities.sampleRateHz, es: stt.capabilities.languages.includes('es') },
      { interim: false, vocabulary: true, rate: 16000, es: true },
    );
    server.transcripts.push({ text: 'hola Tolk, el copago', avgLogprobs: [-0.1, -0.5] });
    const stream = await stt.open({ language: 'es-ES', vocabulary: ['Tolk', ' copago ', ''] });
    const iterated: SttTranscript[] = [];
    const reading = (async () => {
      for await (const t of stream) iterated.push(t);
    })();
    const audio = utterance();
    stream.push(audio.subarray(0, 3000));
    stream.push(audio.subarray(3000));
    assert.equal(stream.pendingMs, 500);
    const final = await stream.flush();
    assert.equal(stream.pendingMs, 0);

    const [r] = server.requestsTo(TRANSCRIPTIONS_PATH).slice(-1);
    assert.ok(r);
    assert.equal(r.method, 'POST');
    assert.equal(r.headers.authorization, `Bearer ${API_KEY}`);
    assert.match(r.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    assert.deepEqual(r.fields, {
      model: ['Systran/faster-whisper-small'],
      language: ['es'],
      prompt: ['Tolk, copago'],
      response_format: ['verbose_json'],
      temperature: ['0'],
    });
    assert.equal(r.files?.file?.filename, 'utterance.wav');
    assert.equal(r.files?.file?.type, 'audio/wav');
    const wav = readWav(r.files?.file?.bytes ?? Buffer.alloc(0));
    assert.equal(wav.sampleRateHz, 16000);
    assert.deepEqual(wav.samples, audio);

    // Two equal-length segments: exp of the mean avg_logprob.
    assert.deepEqual(final, { type: 'final', text: 'hola Tolk, el copago', audioMs: 500, language: 'es', confidence: Math.exp(-0.3) });
    await stream.close();
    await reading;
    assert.deepEqual(iterated, [final]);
    assert.deepEqual(records.map((x) => [x.engine, x.kind, x.outcome]), [['whisper-local', 'stt', 'ok']]);
    assert.deepEqual(stt.stats?.().audioMs, 500);
  });

  test('OpenAI names the language ("spanish"); segments missing leave confidence undefined; no key, no Authorization', async () => {
    const named = await startFakeOpenAi({ languageNames: true });
    try {
      const stt = await engine(named, { apiKey: undefined, vocabularyPrompt: false });
      named.transcripts.push({ text: ' hola ', noSegments: true });
      const stream = await stt.open({ language: 'es', vocabulary: ['Tolk'] });
      stream.push(utterance());
      assert.deepEqual(await stream.flush(), { type: 'final', text: 'hola', audioMs: 500, language: 'es' });
      const [r] = named.requests;
      assert.equal(r?.headers.authorization, undefined);
      assert.equal(r?.fields?.prompt, undefined, 'vocabularyPrompt false sends no prompt');
      await stream.close();
    } finally {
      await named.close();
    }
  });

  test('the stand-in can choose the transcript from the audio it received', async () => {
    const bySize = await startFakeOpenAi({ transcriptFor: (audio, fields) => (audio.samples.length === 16000 ? `one second of ${fields.language?.[0] ?? '?'}` : undefined) });
    try {
      const stt = await engine(bySize, { apiKey: undefined });
      const stream = await stt.open({ language: 'de-DE' });
      stream.push(utterance(16000));
      assert.equal((await stream.flush()).text, 'one second of de');
      stream.push(utterance(8000));
      assert.equal((await stream.flush()).text, '', 'no choice and an empty queue: nothing heard');
      await stream.close();
    } finally {
      await bySize.close();
    }
  });

  test('an utterance under 100 ms sends nothing and is an empty final', async () => {
    const stt = await engine(server);
    const before = server.requests.length;
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance(1000));
    assert.deepEqual(await stream.flush(), { type: 'final', text: '', audioMs: 62.5 });
    assert.equal(server.requests.length, before);
    await stream.close();
  });

  test('a language outside the configured list is refused at open', async () => {
    const stt = await engine(server, { languages: ['en', 'de'] });
    await assert.rejects(stt.open({ language: 'es-ES' }), /does not recognize es-ES; configured languages: en, de/);
  });

  test('429 with Retry-After is retried after the wait and then succeeds', async () => {
    const records: EngineRequestRecord[] = [];
    const stt = await engine(server, {}, records);
    const before = server.requestsTo(TRANSCRIPTIONS_PATH).length;
    server.script(TRANSCRIPTIONS_PATH, rateLimited(0));
    server.transcripts.push('after the limit');
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    assert.equal((await stream.flush()).text, 'after the limit');
    assert.equal(server.requestsTo(TRANSCRIPTIONS_PATH).length - before, 2);
    assert.deepEqual(records.map((r) => r.outcome), ['retry', 'ok']);
    await stream.close();
  });

  test('a Retry-After longer than maxRetryAfterMs is not waited for: retryable error at once', async () => {
    const stt = await engine(server, { maxRetryAfterMs: 1000 });
    server.script(TRANSCRIPTIONS_PATH, rateLimited(30));
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const e = await rejection(stream.flush());
    assert.deepEqual([e.status, e.retryable, e.attempts, e.retryAfterMs, e.vendorCode], [429, true, 1, 30_000, 'rate_limit_exceeded']);
    await stream.close();
  });

  test('500 on every attempt: a retryable error with the status after the retry budget', async () => {
    const records: EngineRequestRecord[] = [];
    const stt = await engine(server, { maxRetries: 2 }, records);
    server.script(TRANSCRIPTIONS_PATH, SERVER_ERROR, SERVER_ERROR, SERVER_ERROR);
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const e = await rejection(stream.flush());
    assert.deepEqual([e.code, e.status, e.retryable, e.attempts], ['http_status', 500, true, 3]);
    assert.match(e.message, /answered HTTP 500: The server had an error while processing your request/);
    assert.deepEqual(records.map((r) => r.outcome), ['retry', 'retry', 'error']);
    await stream.close();
  });

  test('a dropped connection is a network error and is retried', async () => {
    const records: EngineRequestRecord[] = [];
    const stt = await engine(server, {}, records);
    server.script(TRANSCRIPTIONS_PATH, 'drop');
    server.transcripts.push('second try');
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    assert.equal((await stream.flush()).text, 'second try');
    assert.deepEqual(records.map((r) => r.outcome), ['retry', 'ok']);
    await stream.close();
  });

  test('a response that never comes times out (retryable)', async () => {
    const stt = await engine(server, { timeoutMs: 150, maxRetries: 0 });
    server.script(TRANSCRIPTIONS_PATH, 'hang');
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const e = await rejection(stream.flush());
    assert.deepEqual([e.code, e.retryable, e.status], ['timeout', true, undefined]);
    assert.match(e.message, /no response within 150 ms/);
    await stream.close();
  });

  test('a malformed body is a clear, non-retryable error', async () => {
    const stt = await engine(server);
    server.script(TRANSCRIPTIONS_PATH, { status: 200, body: '<html>proxy error</html>' }, { status: 200, body: { transcript: 'x' } });
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const notJson = await rejection(stream.flush());
    assert.deepEqual([notJson.code, notJson.retryable], ['malformed_response', false]);
    assert.match(notJson.message, /malformed response from POST http:\/\/127\.0\.0\.1:\d+\/v1\/audio\/transcriptions: the body is not JSON/);
    stream.push(utterance());
    const noText = await rejection(stream.flush());
    assert.match(noText.message, /expected a verbose_json transcription with a "text" string/);
    await stream.close();
  });

  test('4xx is not retried: a wrong key is 401 invalid_api_key after one attempt', async () => {
    const records: EngineRequestRecord[] = [];
    const stt = await engine(server, { apiKey: 'sk-wrong' }, records);
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const e = await rejection(stream.flush());
    assert.deepEqual([e.status, e.retryable, e.attempts, e.vendorCode], [401, false, 1, 'invalid_api_key']);
    assert.match(e.message, /Incorrect API key provided/);
    assert.deepEqual(records.map((r) => r.outcome), ['error']);
    server.script(TRANSCRIPTIONS_PATH, openAiError(400, 'Audio file is too short.', 'invalid_request_error'));
    const ok = await engine(server);
    const s2 = await ok.open({ language: 'en' });
    s2.push(utterance());
    assert.equal((await rejection(s2.flush())).attempts, 1);
    await Promise.all([stream.close(), s2.close()]);
  });

  test('closing the stream aborts its request in flight', async () => {
    const stt = await engine(server);
    server.script(TRANSCRIPTIONS_PATH, 'hang');
    const aborts = server.clientAborts;
    const seen = server.requests.length;
    const stream = await stt.open({ language: 'en' });
    stream.push(utterance());
    const flushing = rejection(stream.flush());
    await server.waitForRequests(seen + 1);
    await stream.close();
    const e = await flushing;
    assert.deepEqual([e.code, e.retryable], ['aborted', false]);
    await server.waitForClientAborts(aborts + 1);
    await assert.rejects(stream.flush(), /stream is closed/);
  });

  test('settings are validated: an http(s) baseUrl is required', () => {
    assert.throws(() => openaiSttEngine.settings.parse({ baseUrl: 'ftp://x' }), /baseUrl must be an http\(s\) URL/);
    assert.throws(() => openaiSttEngine.settings.parse({ baseUrl: 'http://x/v1', languages: ['en-US'] }), /primary subtags/);
  });
});
