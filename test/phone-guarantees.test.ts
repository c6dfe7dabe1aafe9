import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { phoneCalls, utterances } from '../src/db/schema.js';
import { createFakeEngines, speechLikePcm } from '../src/providers/testing/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { Json } from './calls-support.js';
import type { TwilioMediaPeer } from './twilio-media-peer.js';
import { TwilioSimulator, type SimulatedCall } from './twilio-simulator.js';

// A phone callee of a platform session (docs/phone.md "Twilio") is a stream session of surface
// `phone` (docs/architecture.md "Stream session"): it counts in tolk_streams_active and gives back its
// stream slot and recognizer when it sends no audio for the idle timeout (1 s here).

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a phone callee has the guarantees of every stream', () => {
  const sim = new TwilioSimulator();
  let server: RunningServer;
  let ownerKey: string;

  before(async () => {
    const config = loadConfig({ TOLK_IDLE_AUDIO_TIMEOUT_S: '1' }, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', vad: 'energy', twilio: { ok: true, settings: sim.settings } });
    server = await startServer(config, { engines: createFakeEngines({ stt: { script: () => ['hola'] } }), twilioHttpClient: sim.httpClient });
    sim.attach(server.url);
    ownerKey = server.firstOwnerKey ?? '';
  });
  after(() => server.close());

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${ownerKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const metric = async (name: string): Promise<number | undefined> => {
    const line = (await (await fetch(`${server.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };

  it('counts in tolk_streams_active{surface="phone"} while speaking; silent, it gives its slot back and the call goes on', async () => {
    const created = (await api('POST', '/api/sessions', { source_lang: 'en', target_lang: 'es' })).json as { sessionId: string; streamUrl: string; streamToken: string };
    // A /vt speaker keeps the session active, sending silence (audio all the same) so it is not idle.
    const ws = new WebSocket(`${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`);
    await once(ws, 'open');
    ws.send(JSON.stringify({ config: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en', target_language: 'es', voice: 'female' } }));
    const vtAudio = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(Buffer.alloc(3200)), 100);
    after(() => clearInterval(vtAudio));
    await until('the /vt stream live', async () => server.ctx.slots.held === 1);

    const mediaStarted = new Promise<SimulatedCall>((resolve) => (sim.onMediaStream = resolve));
    assert.equal((await api('POST', `/api/sessions/${created.sessionId}/phone/start`, { phoneNumber: '+14155551234' })).status, 200);
    const call = await mediaStarted;
    const media = call.media as TwilioMediaPeer;
    const speech = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 8000, frequencyHz: 300 });
    const speaking = media.speak(speech);
    await until('the phone leg counted', async () => (await metric('tolk_streams_active{surface="phone"}')) === 1);
    assert.equal(await metric('tolk_streams_active{surface="vt"}'), 1);
    await speaking;

    // Twilio sends nothing more: after the idle timeout the callee's stream is given back, the call stays.
    await until('the phone leg given back', async () => (await metric('tolk_streams_active{surface="phone"}')) === 0 && server.ctx.slots.held === 1, 10_000);
    const row = (await server.ctx.db.select().from(phoneCalls).where(eq(phoneCalls.id, call.sid)))[0];
    assert.equal(row?.status, 'in-progress');

    // The callee speaks again: a new stream, a new utterance.
    await media.speak(speech);
    const participantId = `phone:${call.sid}`;
    await until('two utterances of the callee', async () => (await server.ctx.db.select().from(utterances).where(and(eq(utterances.sessionId, created.sessionId), eq(utterances.participantId, participantId)))).length >= 2);
    clearInterval(vtAudio);
    ws.close();
    await sim.endCall(call);
  });
});
