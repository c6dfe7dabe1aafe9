/** The shared HTTP engine client: abort during a retry wait, Retry-After as an HTTP date, refused connections. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpFake } from './fakes/http-fake.js';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { EngineHttpError } from '../src/providers/http/engine-http-error.js';
import { HttpEngineClient, type HttpEngineClientOptions } from '../src/providers/http/http-engine-client.js';

describe('HttpEngineClient', () => {
  let server: HttpFake;
  before(async () => {
    server = await new HttpFake().listen();
    server.route('GET', '/ok', (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"fine":true}');
    });
  });
  after(async () => server.close());

  function client(options: Partial<HttpEngineClientOptions> = {}): HttpEngineClient {
    return new HttpEngineClient({ engine: 'e1', kind: 'mt', baseUrl: `${server.origin}/`, timeoutMs: 5000, maxRetries: 2, retryBaseDelayMs: 1, ...options });
  }

  test('the process signal aborts a request waiting out a Retry-After', async () => {
    const processClosing = new AbortController();
    const records: EngineRequestRecord[] = [];
    server.script('/ok', { status: 503, body: { error: 'busy' }, headers: { 'retry-after': '60' } });
    const seen = server.requests.length;
    let waiting!: () => void;
    const retryWait = new Promise<void>((resolve) => (waiting = resolve));
    const onRequest = (r: EngineRequestRecord): void => {
      records.push(r);
      if (r.outcome === 'retry') waiting();
    };
    const pending = client({ signal: processClosing.signal, maxRetryAfterMs: 120_000, onRequest }).requestJson({ method: 'GET', path: '/ok' });
    await retryWait;
    processClosing.abort();
    const e = await pending.then(() => assert.fail('expected a rejection'), (x: unknown) => x);
    assert.ok(e instanceof EngineHttpError);
    assert.deepEqual([e.code, e.retryable, e.attempts], ['aborted', false, 1]);
    assert.deepEqual(records.map((r) => r.outcome), ['retry']);
    assert.equal(server.requests.length, seen + 1, 'no second attempt after the abort');
  });

  test('an HTTP-date Retry-After in the past is retried at once; headers and the base URL join', async () => {
    server.script('/ok', { status: 429, body: { error: 'Slowdown' }, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } });
    assert.deepEqual(await client({ headers: { authorization: 'Bearer k' } }).requestJson({ method: 'GET', path: '/ok' }), { fine: true });
    const last = server.requests.at(-1);
    assert.deepEqual([last?.path, last?.headers.authorization], ['/ok', 'Bearer k']);
  });

  test('an error answer echoing the key is redacted, and only its first 8 KiB are read', async () => {
    const key = 'vendor-key-0123456789';
    server.route('GET', '/echo', (req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${String(req.headers.authorization)}`, code: 'invalid_api_key' } }));
    });
    const e = await client({ headers: { authorization: `Bearer ${key}` } }).requestJson({ method: 'GET', path: '/echo' })
      .then(() => assert.fail('expected a rejection'), (x: unknown) => x);
    assert.ok(e instanceof EngineHttpError);
    assert.doesNotMatch(e.message, /vendor-key-0123456789/);
    assert.match(e.message, /answered HTTP 401: Incorrect API key provided: \[REDACTED\]$/);
    let written = 0;
    server.route('GET', '/huge', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (written < 64 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const huge = await client({ maxRetries: 0 }).requestJson({ method: 'GET', path: '/huge' }).then(() => assert.fail('expected a rejection'), (x: unknown) => x);
    assert.ok(huge instanceof EngineHttpError);
    assert.ok(huge.message.length < 600, `message of ${huge.message.length} characters`);
    assert.ok(written < 32 * 1024 * 1024, `the engine could write only ${written} bytes before the connection was dropped`);
  });

  test('a refused connection is a retryable network error naming the system code', async () => {
    const closed = await new HttpFake().listen();
    const url = closed.origin;
    await closed.close();
    const e = await new HttpEngineClient({ engine: 'e2', kind: 'stt', baseUrl: url, timeoutMs: 2000, maxRetries: 1, retryBaseDelayMs: 1 })
      .requestJson({ method: 'GET', path: '/x' })
      .then(() => assert.fail('expected a rejection'), (x: unknown) => x);
    assert.ok(e instanceof EngineHttpError);
    assert.deepEqual([e.code, e.retryable, e.attempts], ['network', true, 2]);
    assert.match(e.message, /ECONNREFUSED/);
  });
});
