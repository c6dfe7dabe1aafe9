import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pcmBlocks, speechLikePcm } from '../src/providers/testing/index.js';
import { startCallsServer, StreamClient, type CallsTestServer, type Json } from './calls-support.js';

/*
 * What every stream has, call legs (spec 004 stream.url) included, since they run on the stream
 * session (docs/architecture.md "Stream session"): the key behind them ends them, silence gives back
 * their slot and recognizer, and they count in tolk_streams_active.
 */

/** An utterance (a 300 Hz burst of `speechMs`, speech to the energy VAD, then silence) as 100 ms PCM16 messages at 16 kHz. */
function audioMessages(speechMs: number): object[] {
  const pcm = speechLikePcm([{ silenceMs: 200 }, { speechMs }, { silenceMs: 900 }], { sampleRateHz: 16000, frequencyHz: 300 });
  return pcmBlocks(pcm, 100, 16000).map((block) => ({
    type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64'), encoding: 'pcm_16', sample_rate: 16000, channels: 1,
  }));
}

/** A sample of the Prometheus text, or undefined when absent. */
async function metric(server: CallsTestServer, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('call legs have the guarantees of every stream', () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer({ env: { TOLK_IDLE_AUDIO_TIMEOUT_S: '1' }, fakes: { stt: { script: () => ['guten tag'] } } });
  });
  after(async () => server.close());

  /** A member key of the server's organization, its id, and a call session it created. */
  async function memberCall(recording = false): Promise<{ keyId: string; key: string; session: Json }> {
    const created = await server.call('POST', '/api/api-keys', { name: `member-${Date.now()}`, role: 'member' });
    assert.equal(created.status, 200, created.text);
    const { id: keyId, key } = created.json as { id: string; key: string };
    const res = await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', recording: { enabled: recording, channels: 'dual' } }, { authorization: `Bearer ${key}` });
    assert.equal(res.status, 201, res.text);
    return { keyId, key, session: res.json };
  }

  async function connect(session: Json, speaker = 'customer'): Promise<StreamClient> {
    const client = await StreamClient.connect(`${session.stream.url}?token=${session.stream.token}&speaker=${speaker}`);
    await client.waitFor((m) => m.type === 'session.ready', 'session.ready');
    return client;
  }

  for (const change of ['deleted', 'rotated'] as const) {
    it(`the API key behind a call ${change}: its live sockets get an error and close 4401, its stream token no longer connects, nothing more is recorded`, async () => {
      const { keyId, session } = await memberCall(true);
      const customer = await connect(session);
      const agent = await connect(session, 'agent');
      // Listening sockets ping (the idle timeout here is 1 s).
      const pinging = setInterval(() => [customer, agent].forEach((c) => c.closed || c.send({ type: 'ping' })), 200);
      after(() => clearInterval(pinging));
      for (const m of audioMessages(700)) customer.send(m);
      await agent.waitFor((m) => m.type === 'transcript' && m.is_final, 'a final of the customer');

      const res = change === 'deleted'
        ? await server.call('DELETE', `/api/api-keys/${keyId}`)
        : await server.call('POST', `/api/api-keys/${keyId}/rotate`);
      assert.equal(res.status, 200, res.text);
      for (const client of [customer, agent]) {
        const error = await client.waitFor((m) => m.type === 'error', 'the revocation error');
        assert.equal(error.error.type, 'authentication_error');
        assert.match(error.error.message, new RegExp(`API key ${keyId} was ${change}`));
        assert.equal((await client.waitClosed()).code, 4401);
      }
      const again = await StreamClient.connect(`${session.stream.url}?token=${session.stream.token}`);
      const refused = await again.waitFor((m) => m.type === 'error', 'refusal of the old token');
      assert.equal(refused.error.code, 'invalid_token');
      assert.equal((await again.waitClosed()).code, 4401);

      // The owner ends the call: the recording holds the audio sent before the revocation only.
      const ended = await server.call('POST', `/v1/sessions/${session.id}/end`);
      assert.equal(ended.status, 200, ended.text);
      await until('the recording', async () => ((await server.call('GET', `/v1/sessions/${session.id}/recordings`)).json?.data?.length ?? 0) > 0);
      const recording = (await server.call('GET', `/v1/sessions/${session.id}/recordings`)).json.data[0];
      assert.ok(recording.duration <= 2.5, `recorded ${recording.duration} s, sent 1.8 s before the revocation`);
    });
  }

  it('a leg that only pings gives back its stream slot and recognizer after the idle timeout; its socket stays open and audio opens it again', async () => {
    const { session } = await memberCall();
    const customer = await connect(session);
    for (const m of audioMessages(300).slice(0, 5)) customer.send(m);
    await until('the leg stream live', () => server.ctx.slots.held === 1);
    assert.equal(await metric(server, 'tolk_streams_active{surface="calls"}'), 1);
    const pinging = setInterval(() => customer.send({ type: 'ping' }), 200);
    try {
      await until('slot given back', () => server.ctx.slots.held === 0, 10_000);
      assert.equal(await metric(server, 'tolk_streams_active{surface="calls"}'), 0);
      assert.ok(!customer.messages.some((m: Json) => m.type === 'error'), 'a listening socket is not an error');
      customer.send({ type: 'ping' });
      await customer.waitFor((m) => m.type === 'pong', 'the socket still answers');
      for (const m of audioMessages(700)) customer.send(m);
      await customer.waitFor((m) => m.type === 'transcript' && m.is_final, 'a final after the leg opened again');
    } finally {
      clearInterval(pinging);
    }
    customer.close();
  });

  it('a live call stream counts in tolk_streams_active{surface="calls"}, and not as /vt', async () => {
    const { session } = await memberCall();
    const customer = await connect(session);
    for (const m of audioMessages(700)) customer.send(m);
    await until('the leg stream live', async () => (await metric(server, 'tolk_streams_active{surface="calls"}')) === 1);
    assert.equal(await metric(server, 'tolk_streams_active{surface="vt"}'), 0);
    assert.ok(((await metric(server, 'tolk_streams_started_total{surface="calls"}')) ?? 0) >= 1);
    customer.send({ type: 'session.end' });
    await customer.waitClosed();
    await until('no live call stream', async () => (await metric(server, 'tolk_streams_active{surface="calls"}')) === 0);
  });
});
