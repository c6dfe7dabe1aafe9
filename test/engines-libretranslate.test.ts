/**
 * Contract of the `libretranslate` MT engine against a stand-in written from LibreTranslate's API
 * docs: pairs from `GET /languages`, the `/translate` JSON body field by field, glossary slots as
 * `translate="no"` elements in HTML mode and back, and the shared HTTP behaviour (429 → retry,
 * 500 → retryable error, timeout, malformed body, 4xx not retried, abort).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { EngineHttpError } from '../src/providers/http/engine-http-error.js';
import { libretranslateEngine } from '../src/providers/mt/libretranslate.js';
import type { MtProvider } from '../src/providers/mt/types.js';
import { ltError, startFakeLibreTranslate, type FakeLibreTranslateServer } from './fakes/libretranslate-server.js';

const KEY = 'lt-key-1';
const DICTIONARY = { 'en-es': { the: 'el', is: 'es', great: 'genial', hello: 'hola', world: 'mundo', and: 'y' } };

async function engine(server: FakeLibreTranslateServer, settings: Record<string, unknown> = {}, records: EngineRequestRecord[] = []): Promise<MtProvider> {
  const parsed = libretranslateEngine.settings.parse({ baseUrl: server.origin, apiKey: KEY, retryBaseDelayMs: 1, ...settings });
  return libretranslateEngine.create(parsed, { id: 'lt', onRequest: (r) => records.push(r) });
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

const EN_ES = { source: 'en', target: 'es' };

describe('libretranslate MT engine', () => {
  let server: FakeLibreTranslateServer;
  let mt: MtProvider;
  before(async () => {
    server = await startFakeLibreTranslate({ apiKeys: [KEY], dictionary: DICTIONARY });
    mt = await engine(server);
  });
  after(async () => server.close());

  test('create discovers the pairs from GET /languages (targets), keyed by primary subtag', async () => {
    const [r] = server.requestsTo('/languages');
    assert.equal(r?.method, 'GET');
    assert.deepEqual(mt.capabilities.pairs, [
      { source: 'en', target: 'de' }, { source: 'en', target: 'es' }, { source: 'en', target: 'fr' }, { source: 'en', target: 'pt' },
      { source: 'en', target: 'zh' }, { source: 'es', target: 'en' }, { source: 'pt', target: 'en' }, { source: 'zh', target: 'en' },
    ]);
    const only = await engine(server, { languages: ['en', 'es'] });
    assert.deepEqual(only.capabilities.pairs, [EN_ES, { source: 'es', target: 'en' }]);
  });

  test('plain text: the JSON body field by field, format text, the key as api_key (no Authorization)', async () => {
    const seen = server.requests.length;
    assert.deepEqual(await mt.translate(['Hello world'], EN_ES), ['hola mundo']);
    const r = server.requests[seen];
    assert.equal(r?.path, '/translate');
    assert.equal(r?.method, 'POST');
    assert.equal(r?.headers['content-type'], 'application/json');
    assert.equal(r?.headers.authorization, undefined);
    assert.deepEqual(r?.json, { q: 'Hello world', source: 'en', target: 'es', format: 'text', api_key: KEY });
  });

  test('the server\'s own code is sent for a subtag (zh → zh-Hans)', async () => {
    await mt.translate(['hello'], { source: 'en', target: 'zh' });
    assert.deepEqual((server.requests.at(-1)?.json as { target?: string }).target, 'zh-Hans');
  });

  test('glossary slots go as translate="no" elements in HTML mode and come back as slots, spacing kept', async () => {
    const seen = server.requests.length;
    const out = await mt.translate(['The ', { slot: 0 }, ' is great & <fine>'], EN_ES);
    const body = server.requests[seen]?.json as Record<string, unknown>;
    assert.deepEqual(body, {
      q: 'The <span translate="no" data-slot="0">0</span> is great &amp; &lt;fine&gt;',
      source: 'en',
      target: 'es',
      format: 'html',
      api_key: KEY,
    });
    // The stand-in translates each text run on its own and trims it, as translate-html does.
    assert.deepEqual(out, ['el ', { slot: 0 }, ' es genial & <fine>']);
  });

  test('slots the engine moved come back where it put them', async () => {
    server.script('/translate', { status: 200, body: { translatedText: '<span translate="no" data-slot="1">1</span> y <span translate="no" data-slot="0">0</span>' } });
    assert.deepEqual(await mt.translate([{ slot: 0 }, ' and ', { slot: 1 }], EN_ES), [{ slot: 1 }, ' y ', { slot: 0 }]);
  });

  test('an unsupported pair is refused without a request; empty text is not sent', async () => {
    const seen = server.requests.length;
    await assert.rejects(mt.translate(['hola'], { source: 'es', target: 'fr' }), /libretranslate has no es→fr pair at http:\/\/127\.0\.0\.1/);
    assert.deepEqual(await mt.translate(['  '], EN_ES), ['  ']);
    assert.equal(server.requests.length, seen);
  });

  test('429 Slowdown with Retry-After is retried, then succeeds', async () => {
    const records: EngineRequestRecord[] = [];
    const m = await engine(server, {}, records);
    server.script('/translate', ltError(429, 'Slowdown: 30 per 1 minute', { 'retry-after': '0' }));
    assert.deepEqual(await m.translate(['hello'], EN_ES), ['hola']);
    assert.deepEqual(records.map((r) => r.outcome), ['ok', 'retry', 'ok']);
  });

  test('500 on every attempt: retryable error with the status and LibreTranslate\'s message', async () => {
    const m = await engine(server, { maxRetries: 1 });
    const failure = ltError(500, 'Cannot translate text: model crashed');
    server.script('/translate', failure, failure);
    const e = await rejection(m.translate(['hello'], EN_ES));
    assert.deepEqual([e.status, e.retryable, e.attempts], [500, true, 2]);
    assert.match(e.message, /answered HTTP 500: Cannot translate text: model crashed/);
  });

  test('4xx is not retried: a wrong key is 403, a missing one 400, after one attempt', async () => {
    const records: EngineRequestRecord[] = [];
    const wrong = await engine(server, { apiKey: 'nope' }, records);
    const e = await rejection(wrong.translate(['hello'], EN_ES));
    assert.deepEqual([e.status, e.retryable, e.attempts, e.message.endsWith('Invalid API key')], [403, false, 1, true]);
    assert.deepEqual(records.map((r) => r.outcome), ['ok', 'error']);
    const keyless = await engine(server, { apiKey: undefined });
    const missing = await rejection(keyless.translate(['hello'], EN_ES));
    assert.deepEqual([missing.status, missing.attempts], [400, 1]);
    assert.match(missing.message, /Please contact the server operator to get an API key/);
  });

  test('a response that never comes times out; a malformed body is a clear error', async () => {
    const m = await engine(server, { timeoutMs: 100, maxRetries: 0 });
    server.script('/translate', 'hang');
    const t = await rejection(m.translate(['hello'], EN_ES));
    assert.deepEqual([t.code, t.retryable], ['timeout', true]);
    server.script('/translate', { status: 200, body: { translation: 'hola' } });
    const bad = await rejection(m.translate(['hello'], EN_ES));
    assert.deepEqual([bad.code, bad.retryable], ['malformed_response', false]);
    assert.match(bad.message, /expected \{"translatedText": "…"\}/);
  });

  test('the caller\'s signal aborts a request in flight', async () => {
    server.script('/translate', 'hang');
    const aborts = server.clientAborts;
    const seen = server.requests.length;
    const controller = new AbortController();
    const pending = rejection(mt.translate(['hello'], EN_ES, { signal: controller.signal }));
    await server.waitForRequests(seen + 1);
    controller.abort();
    assert.deepEqual([(await pending).code, (await pending).retryable], ['aborted', false]);
    await server.waitForClientAborts(aborts + 1);
  });

  test('create fails with a clear error when /languages fails, is malformed or offers nothing', async () => {
    server.script('/languages', ltError(500, 'boom'));
    await assert.rejects(engine(server, { maxRetries: 0 }), /GET http:\/\/127\.0\.0\.1:\d+\/languages answered HTTP 500: boom/);
    server.script('/languages', { status: 200, body: { languages: [] } });
    await assert.rejects(engine(server), /malformed response from GET .*\/languages/);
    await assert.rejects(engine(server, { languages: ['ja'] }), /offers no language pair between ja/);
  });
});
