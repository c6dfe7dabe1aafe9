import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StreamClient, WebhookReceiver, type Json } from './calls-support.js';
import { librivoxSamples } from './helpers.js';
import { startTolkChild, type TolkChild } from './tolk-child.js';

const RATE_HZ = 16000;
/** 3 s of real speech, sent before the crash. */
const BEFORE_S = 3;

function api(server: TolkChild, key: string) {
  return async (method: string, p: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${server.url}${p}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

/** Sends `samples` as 100 ms `audio` messages. */
function sendPcm(client: StreamClient, samples: Int16Array): void {
  for (let i = 0; i < samples.length; i += RATE_HZ / 10) {
    const block = samples.subarray(i, i + RATE_HZ / 10);
    client.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
  }
}

/** Waits until the file at `p` holds at least `bytes` (the recorder streams to disk as audio arrives). */
async function fileReaches(p: string, bytes: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const size = fs.existsSync(p) ? fs.statSync(p).size : 0;
    if (size >= bytes) return size;
    if (Date.now() > deadline) throw new Error(`${p} holds ${size} bytes, expected ${bytes}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `samples` from the first non-zero one (the recording starts with the silence before the first audio). */
function fromFirstSound(samples: Int16Array): Int16Array {
  return samples.subarray(Math.max(0, samples.findIndex((v) => v !== 0)));
}

/** The customer (left) channel of a dual WAV, from its first non-zero sample. */
function customerSpeech(wav: Buffer): Int16Array {
  const samples = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
  return fromFirstSound(samples.filter((_, i) => i % 2 === 0));
}

describe('a recorded call across kill -9 of the server (docs/calls.md "Restarts")', () => {
  const receiver = new WebhookReceiver();
  const speech = librivoxSamples('0870');
  let hookUrl: string;
  before(async () => {
    hookUrl = await receiver.listen();
  });
  after(async () => receiver.close());

  /** A fresh server with a recorded call whose customer sent {@link BEFORE_S} s, killed with SIGKILL. */
  async function crashedCall(): Promise<{ dataDir: string; key: string; session: Json; rawPath: string }> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-restart-'));
    const server = await startTolkChild(dataDir);
    try {
      const call = api(server, server.apiKey);
      receiver.secret = (await call('GET', '/v1/webhook_endpoints')).json.data[0].secret;
      const created = await call('POST', '/v1/sessions', {
        mode: 'bidirectional_translation', source_language: 'en', target_language: 'es', webhook_url: hookUrl, recording: { enabled: true, channels: 'dual' },
      });
      assert.equal(created.status, 201);
      const customer = await StreamClient.connect(`${created.json.stream.url}?token=${created.json.stream.token}`);
      await customer.waitFor((m) => m.type === 'session.ready', 'ready');
      sendPcm(customer, speech.subarray(0, BEFORE_S * RATE_HZ));
      const rawPath = path.join(dataDir, 'recordings', `${created.json.id}.customer.raw`);
      await fileReaches(rawPath, BEFORE_S * RATE_HZ * 2);
      await server.kill9();
      return { dataDir, key: server.apiKey, session: created.json, rawPath };
    } catch (err) {
      await server.kill9();
      throw err;
    }
  }

  it('nobody reconnects: the restart ends the call (server_restart), lists the recording made from the raw files, sends the events once', async () => {
    const { dataDir, key, session, rawPath } = await crashedCall();
    const server = await startTolkChild(dataDir, { TOLK_CALL_RESUME_GRACE_MS: '200' }, false);
    try {
      const call = api(server, key);
      const mine = (type: string) => receiver.received.filter((e) => e.type === type && (e.body.data.id === session.id || e.body.data.session_id === session.id));
      await receiver.waitFor(() => ['session.ended', 'recording.ready', 'transcript.ready'].every((t) => mine(t).length > 0), 'the end of the interrupted call');
      const got = (await call('GET', `/v1/sessions/${session.id}`)).json;
      assert.equal(got.status, 'ended');
      assert.equal(got.end_reason, 'server_restart');
      assert.equal(mine('session.ended')[0]?.body.data.end_reason, 'server_restart');
      const list = (await call('GET', `/v1/sessions/${session.id}/recordings`)).json;
      assert.equal(list.data.length, 1);
      assert.equal(list.data[0].status, 'ready');
      assert.ok(list.data[0].duration >= BEFORE_S, `the recording keeps the ${BEFORE_S} s recorded before the crash (got ${list.data[0].duration} s)`);
      assert.equal(mine('recording.ready')[0]?.body.data.id, list.data[0].id);
      const wav = Buffer.from(await (await fetch(`${server.url}/v1/recordings/${list.data[0].id}/audio`, { headers: { authorization: `Bearer ${key}` } })).arrayBuffer());
      assert.deepEqual(customerSpeech(wav).subarray(0, BEFORE_S * RATE_HZ - RATE_HZ), fromFirstSound(speech).subarray(0, BEFORE_S * RATE_HZ - RATE_HZ), 'the customer\'s speech, sample for sample');
      assert.equal(fs.existsSync(rawPath), false, 'the raw leg files are gone');
      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'recordings')).filter((n) => !n.endsWith('.wav')), [], 'no live marker is left');
      assert.equal(mine('recording.failed').length, 0);
      for (const t of ['session.ended', 'recording.ready', 'transcript.ready']) assert.equal(new Set(mine(t).map((e) => e.id)).size, 1, `one ${t} event`);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the customer reconnects with the same token: the call resumes, the raw file is appended to, the recording holds both parts', async () => {
    const { dataDir, key, session, rawPath } = await crashedCall();
    const before = fs.statSync(rawPath).size;
    const server = await startTolkChild(dataDir, { TOLK_CALL_RESUME_GRACE_MS: '60000' }, false);
    try {
      const call = api(server, key);
      const url = `ws://127.0.0.1:${server.port}/v1/sessions/${session.id}/connect?token=${session.stream.token}`;
      const customer = await StreamClient.connect(url);
      await customer.waitFor((m) => m.type === 'session.ready', 'ready after the restart');
      assert.ok(fs.statSync(rawPath).size >= before, 'reconnecting does not truncate what was recorded');
      sendPcm(customer, speech.subarray(BEFORE_S * RATE_HZ, (BEFORE_S + 1) * RATE_HZ));
      await fileReaches(rawPath, before + RATE_HZ * 2);
      assert.equal((await call('GET', `/v1/sessions/${session.id}`)).json.status, 'active');
      assert.equal((await call('POST', `/v1/sessions/${session.id}/end`, { reason: 'completed' })).status, 200);
      await receiver.waitFor((r) => r.some((e) => e.type === 'recording.ready' && e.body.data.session_id === session.id), 'recording.ready');
      const list = (await call('GET', `/v1/sessions/${session.id}/recordings`)).json;
      assert.equal(list.data.length, 1);
      assert.ok(list.data[0].duration >= BEFORE_S + 1, `both parts are in the recording (got ${list.data[0].duration} s)`);
      const wav = Buffer.from(await (await fetch(`${server.url}/v1/recordings/${list.data[0].id}/audio`, { headers: { authorization: `Bearer ${key}` } })).arrayBuffer());
      assert.deepEqual(customerSpeech(wav).subarray(0, BEFORE_S * RATE_HZ - RATE_HZ), fromFirstSound(speech).subarray(0, BEFORE_S * RATE_HZ - RATE_HZ), 'the part before the crash is intact');
      assert.equal((await call('GET', `/v1/sessions/${session.id}`)).json.end_reason, 'completed');
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
