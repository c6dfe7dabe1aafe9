import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { callSessions } from '../src/db/schema.js';
import { pcmBlocks, speechLikePcm } from '../src/providers/testing/index.js';
import { startCallsServer, StreamClient, type CallsTestServer } from './calls-support.js';

const body = { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en' };

describe('calls surface: hostile inputs get clear 4xx answers', () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer();
  });
  after(async () => {
    await server.close();
  });

  it('a transcription object nested 5,000 levels is 400 invalid_request, with or without an Idempotency-Key', async () => {
    const nested = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`; // built as text: JSON.stringify itself overflows on it
    const raw = `{"mode":"bidirectional_translation","source_language":"de","target_language":"en","transcription":${nested}}`;
    for (const headers of [{}, { 'idempotency-key': 'deep-1' }] as Array<Record<string, string>>) {
      const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', body: raw, headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json', ...headers } });
      const text = await res.text();
      assert.equal(res.status, 400, text.slice(0, 300));
      const json = JSON.parse(text);
      assert.equal(json.error.code, 'invalid_request');
      assert.equal(json.error.type, 'validation_error');
      assert.match(json.error.message, /deeper than 32 levels/);
    }
    let fine: unknown = {};
    for (let i = 0; i < 20; i++) fine = { a: fine };
    assert.equal((await server.call('POST', '/v1/sessions', { ...body, transcription: fine })).status, 201);
  });

  it('an id with a NUL byte is 404 in the calls shape, not 500', async () => {
    for (const path of ['/v1/recordings/rec_x%00/audio', '/v1/recordings/rec_x%00', '/v1/sessions/sess_x%00', '/v1/sessions/sess_x%00/transcript']) {
      const res = await server.call('GET', path);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.equal(res.json.error.type, 'not_found_error', path);
    }
  });

  it('a language code that names no language is refused when the call is created', async () => {
    const source = await server.call('POST', '/v1/sessions', { ...body, source_language: 'xx' });
    assert.equal(source.status, 400, source.text);
    assert.equal(source.json.error.code, 'unsupported_language');
    assert.equal(source.json.error.param, 'source_language');
    assert.match(source.json.error.message, /^Unsupported source_language 'xx': 'xx' is not a language code/);
    const target = await server.call('POST', '/v1/sessions', { ...body, target_language: 'qq-QQ' });
    assert.equal(target.status, 400, target.text);
    assert.equal(target.json.error.param, 'target_language');
  });

  it('metadata values are counted in characters (code points), not UTF-16 units', async () => {
    const ok = await server.call('POST', '/v1/sessions', { ...body, metadata: { note: '😀'.repeat(500) } });
    assert.equal(ok.status, 201, ok.text.slice(0, 300));
    await server.call('POST', `/v1/sessions/${ok.json.id}/end`);
    const tooLong = await server.call('POST', '/v1/sessions', { ...body, metadata: { note: '😀'.repeat(501) } });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.error.code, 'metadata_value_too_long');
    assert.match(tooLong.json.error.message, /has 501 characters; at most 500/);
  });

  it('a stream whose language no engine serves gets one error and is closed, not one error per audio frame', async () => {
    const s = (await server.call('POST', '/v1/sessions', body)).json;
    // A session stored before its language became unavailable (engines changed since).
    await server.ctx.db.update(callSessions).set({ sourceLanguage: 'xx' }).where(eq(callSessions.id, s.id));
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    const pcm = speechLikePcm([{ speechMs: 1000 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) {
      if (customer.closed) break;
      customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    }
    const closed = await customer.waitClosed();
    const errors = customer.messages.filter((m) => m.type === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(JSON.stringify(errors[0]), /xx/);
    assert.equal(closed.code, 1000);
  });
});
