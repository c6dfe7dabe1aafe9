import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pcmBlocks, speechLikePcm } from '../src/providers/testing/index.js';
import { startCallsServer, StreamClient, WebhookReceiver, type CallsTestServer, type Json } from './calls-support.js';

describe('calls webhooks and recording', () => {
  let server: CallsTestServer;
  const receiver = new WebhookReceiver();
  let hookUrl: string;
  before(async () => {
    hookUrl = await receiver.listen();
    server = await startCallsServer({
      env: { TOLK_WEBHOOK_RETRY_BASE_MS: '20', TOLK_WEBHOOK_MAX_ATTEMPTS: '4', TOLK_WEBHOOK_TIMEOUT_MS: '2000', TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' },
      fakes: { stt: { script: ['guten tag'] } },
    });
    const endpoints = await server.call('GET', '/v1/webhook_endpoints');
    assert.equal(endpoints.status, 200, endpoints.text);
    const endpoint = endpoints.json.data[0];
    assert.match(endpoint.id, /^wh_/);
    assert.match(endpoint.secret, /^whsec_/);
    receiver.secret = endpoint.secret;
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('a call\'s events reach its webhook_url signed, retried with backoff after failures, once per id; attempts are visible', async () => {
    receiver.failFirst(2);
    const created = await server.call('POST', '/v1/sessions', {
      mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: hookUrl,
      recording: { enabled: true, channels: 'dual' }, metadata: { ticket_id: 't-9' },
    });
    assert.equal(created.status, 201, created.text);
    const s = created.json;
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    const pcm = speechLikePcm([{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 900 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 100, 16000)) customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    await customer.waitFor((m) => m.type === 'translation', 'translation');
    const ended = await server.call('POST', `/v1/sessions/${s.id}/end`, { reason: 'completed' });
    assert.equal(ended.status, 200);
    const types = ['session.created', 'session.started', 'session.ended', 'transcript.ready', 'recording.ready'];
    await receiver.waitFor((r) => types.every((t) => r.some((e) => e.type === t && e.body.data.session_id === s.id || e.type === t && e.body.data.id === s.id)), types.join(', '));
    assert.deepEqual(receiver.badSignatures, [], 'every delivery carried a valid Kallglot-Signature');
    const mine = receiver.received.filter((e) => e.body.data.id === s.id || e.body.data.session_id === s.id);
    assert.equal(new Set(mine.map((e) => e.id)).size, mine.length, 'each event id was accepted once');
    for (const e of mine) {
      assert.deepEqual(Object.keys(e.body), ['id', 'type', 'api_version', 'created_at', 'data']);
      assert.match(e.body.id, /^evt_/);
      assert.equal(e.body.api_version, 'v1');
      assert.match(e.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    }
    const endedEvent = mine.find((e) => e.type === 'session.ended');
    assert.equal(endedEvent?.body.data.status, 'ended');
    assert.equal(endedEvent?.body.data.end_reason, 'completed');
    assert.deepEqual(endedEvent?.body.data.metadata, { ticket_id: 't-9' });
    const transcriptReady = mine.find((e) => e.type === 'transcript.ready');
    assert.equal(transcriptReady?.body.data.segment_count, 1);
    const recordingReady = mine.find((e) => e.type === 'recording.ready');
    assert.match(recordingReady?.body.data.download_url, /^\/v1\/recordings\/rec_\w+\/audio$/);

    const log = await server.call('GET', `/v1/webhook_events?session_id=${s.id}`);
    assert.equal(log.status, 200);
    assert.equal(log.json.data.length, 5);
    for (const event of log.json.data as Json[]) {
      assert.equal(event.status, 'delivered');
      assert.equal(event.attempts, 3);
      assert.deepEqual(event.delivery_attempts.map((a: Json) => a.status_code), [500, 500, 200]);
      assert.match(event.delivery_attempts[0].error, /^HTTP 500: try again/);
    }
    const member = await server.keyOf('default', 'member');
    const denied = await server.call('GET', '/v1/webhook_events', undefined, { authorization: `Bearer ${member}` });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.type, 'authorization_error');
  });

  it('an endpoint that never answers 2xx is retried until the last attempt, then the event is failed', async () => {
    receiver.failFirst(100);
    const s = (await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: hookUrl })).json;
    let event: Json;
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 50));
      event = (await server.call('GET', `/v1/webhook_events?session_id=${s.id}`)).json.data[0];
    } while (event?.status !== 'failed' && Date.now() < deadline);
    assert.equal(event.type, 'session.created');
    assert.equal(event.status, 'failed');
    assert.equal(event.attempts, 4);
    assert.equal(event.next_attempt_at, null);
  });

  it('the dual recording is a stereo WAV with the customer left and the agent right, downloadable only with a key', async () => {
    receiver.failFirst(0);
    const s = (await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', recording: { enabled: true, channels: 'dual' } })).json;
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    const pcm = speechLikePcm([{ speechMs: 500 }], { sampleRateHz: 16000 });
    customer.send({ type: 'audio', data: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64') });
    customer.send({ type: 'ping' });
    await customer.waitFor((m) => m.type === 'pong', 'pong');
    await server.call('POST', `/v1/sessions/${s.id}/end`);
    const list = (await server.call('GET', `/v1/sessions/${s.id}/recordings`)).json;
    assert.equal(list.data.length, 1);
    const rec = list.data[0];
    assert.deepEqual([rec.object, rec.channel, rec.status, rec.format, rec.channels, rec.sample_rate, rec.bit_depth], ['recording', 'dual', 'ready', 'wav', 2, 16000, 16]);
    assert.ok(rec.duration >= 0.5, `duration ${rec.duration}`);
    const noKey = await fetch(`${server.url}${rec.download_url}`);
    assert.equal(noKey.status, 401);
    const other = await server.keyOf('not-theirs');
    assert.equal((await fetch(`${server.url}${rec.download_url}`, { headers: { authorization: `Bearer ${other}` } })).status, 404);
    const res = await fetch(`${server.url}${rec.download_url}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    assert.equal(wav.length, rec.size);
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
    assert.equal(wav.readUInt16LE(22), 2, 'two channels');
    assert.equal(wav.readUInt32LE(24), 16000);
    let left = 0;
    let right = 0;
    for (let i = 44; i + 3 < wav.length; i += 4) {
      left = Math.max(left, Math.abs(wav.readInt16LE(i)));
      right = Math.max(right, Math.abs(wav.readInt16LE(i + 2)));
    }
    assert.ok(left > 4000, `the customer speaks on the left channel (peak ${left})`);
    assert.equal(right, 0, 'the agent said nothing on the right channel');
  });
});
