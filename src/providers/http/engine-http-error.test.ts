import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeErrorBody, isRetryableStatus, retryAfterMs } from './engine-http-error.js';

test('Retry-After: seconds, decimals, HTTP date, retry-after-ms first; unreadable is undefined', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' }), now), 3000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '1.5' }), now), 1500);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now), 7000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now), 0);
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
  assert.equal(retryAfterMs(new Headers(), now), undefined);
});

test('error bodies: OpenAI, LibreTranslate, FastAPI, plain text', () => {
  assert.deepEqual(describeErrorBody('{"error":{"message":"Bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}'), { message: 'Bad key', vendorCode: 'invalid_api_key' });
  assert.deepEqual(describeErrorBody('{"error":{"message":"Down","type":"server_error","param":null,"code":null}}'), { message: 'Down', vendorCode: 'server_error' });
  assert.deepEqual(describeErrorBody('{"error":"Slowdown: 30 per 1 minute"}'), { message: 'Slowdown: 30 per 1 minute' });
  assert.deepEqual(describeErrorBody('{"detail":"Model not found"}'), { message: 'Model not found' });
  assert.deepEqual(describeErrorBody(' Bad Gateway \n'), { message: 'Bad Gateway' });
});

test('retryable statuses: 408, 429 and 5xx only', () => {
  assert.deepEqual([400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 429, 500, 502, 503, 504]);
});

test('vendor messages never carry a key: the engine\'s own and credential-looking words are redacted, and cut to 300 characters', () => {
  const echoed = describeErrorBody('{"error":{"message":"Incorrect API key provided: my-vendor-secret-0042. Bearer abc.def","code":"invalid_api_key"}}', ['my-vendor-secret-0042']);
  assert.deepEqual(echoed, { message: 'Incorrect API key provided: [REDACTED]. Bearer [REDACTED]', vendorCode: 'invalid_api_key' });
  assert.equal(describeErrorBody('{"detail":"bad key sk-proj-AbCdEf0123456789"}').message, 'bad key [REDACTED]');
  const long = describeErrorBody(JSON.stringify({ error: 'x'.repeat(5000) })).message;
  assert.equal(long.length, 301);
  assert.ok(long.endsWith('…'));
});
