import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import WebSocket from 'ws';
import { concatSamples } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resampler.js';
import { readWav } from '../src/audio/wav.js';
import { loadConfig } from '../src/config.js';
import { phoneCalls, sessions, utterances } from '../src/db/schema.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { phoneCallsOf } from '../src/api/telephony/twilio-phone.js';
import { FAKE_TTS_FREQUENCY_HZ, createFakeEngines, speechLikePcm, toneFrequencyHz } from '../src/providers/testing/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { Json } from './calls-support.js';
import { TwilioMediaPeer } from './twilio-media-peer.js';
import { TwilioSimulator, twilioSignature, type SimulatedCall } from './twilio-simulator.js';

// Spec 000 `POST /api/sessions/:id/phone/start` with only Twilio configured (docs/phone.md "Twilio"):
// the call is placed through the Twilio simulator (test/twilio-simulator.ts, written from Twilio's
// docs), its signed Media Stream carries the callee into the session's translation both ways.

const CALLEE = '+14155551234';
const SPANISH = 'hola buenos días';

/** espeak-ng speaking Spanish, at `rateHz`, followed by 1 s of silence (the utterance's endpoint). */
function spanishSpeech(rateHz: number): Int16Array {
  const { samples, sampleRateHz } = readWav(execFileSync('espeak-ng', ['-v', 'es', '--stdout', SPANISH]));
  return concatSamples([resample(samples, sampleRateHz, rateHz), new Int16Array(rateHz)]);
}

/** A `/vt` client of the session (spec 002): config, then binary PCM at 16 kHz; records JSON events and audio bytes. */
class VtSpeaker {
  readonly events: Array<Record<string, Record<string, unknown>>> = [];
  audioBytes = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.audioBytes += (data as Buffer).length;
      else this.events.push(JSON.parse(data.toString()) as Record<string, Record<string, unknown>>);
    });
  }

  static async open(created: { streamUrl: string; streamToken: string }): Promise<VtSpeaker> {
    const ws = new WebSocket(`${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`);
    await once(ws, 'open');
    ws.send(JSON.stringify({ config: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en', target_language: 'es', voice: 'female' } }));
    return new VtSpeaker(ws);
  }

  /** Sends `samples` (16 kHz) as 20 ms frames at real-time pace. */
  async speak(samples: Int16Array): Promise<void> {
    const t0 = Date.now();
    for (let n = 0; n * 320 < samples.length; n++) {
      const frame = samples.subarray(n * 320, (n + 1) * 320);
      this.ws.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      const dueMs = t0 + (n + 1) * 20 - Date.now();
      if (dueMs > 0) await new Promise((r) => setTimeout(r, dueMs));
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close(1000);
    await closed;
  }
}

/** Polls `check` (database state has no event to wait on) until it holds. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('phone calls into a session through Tolk\'s own Twilio telephony (spec 000, no Vapi)', () => {
  const sim = new TwilioSimulator();
  let server: RunningServer;
  let ownerKey: string;
  let memberKey: string;

  before(async () => {
    const base = loadConfig({});
    const config = loadConfig({}, {
      port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', twilio: { ok: true, settings: sim.settings },
      capacity: { ...base.capacity, maxBacklogMs: 600_000 },
    });
    const engines = createFakeEngines({ stt: { script: (options) => (options.language.startsWith('es') ? [SPANISH] : ['hello there']) } });
    server = await startServer(config, { engines, twilioHttpClient: sim.httpClient });
    sim.attach(server.url);
    ownerKey = server.firstOwnerKey ?? '';
    memberKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' })).key;
  });
  after(() => server.close());

  const api = async (method: string, path: string, body?: unknown, key = ownerKey) => {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Json };
  };
  const createSession = async () => (await api('POST', '/api/sessions', { source_lang: 'en', target_lang: 'es', speaker_name: 'Dr. Smith' })).json as { sessionId: string; streamUrl: string; streamToken: string };
  const sessionRow = async (id: string) => (await server.ctx.db.select().from(sessions).where(eq(sessions.id, id)))[0];
  const callRow = async (id: string) => (await server.ctx.db.select().from(phoneCalls).where(eq(phoneCalls.id, id)))[0];
  /** A session with a live `/vt` speaker (status `active`). */
  const liveSession = async () => {
    const created = await createSession();
    const vt = await VtSpeaker.open(created);
    await until('the session is active', async () => (await sessionRow(created.sessionId))?.status === 'active');
    return { created, vt };
  };
  const callbacksOf = (call: SimulatedCall) => call.callbacks.map((c) => `${c.CallStatus} ${c.httpStatus}`);
  /** Resolves once Tolk answered the call's `status` callback (already, or on a later one). */
  const callbackSeen = (sid: string, status: string) => new Promise<void>((resolve) => {
    const seen = (): boolean => sim.calls.get(sid)?.callbacks.some((c) => c.CallStatus === status) ?? false;
    if (seen()) return resolve();
    sim.onStatusCallback = () => void (seen() && resolve());
  });

  it('places the call, records the callee\'s Spanish as utterances translated into English, plays the session\'s Spanish speech to the callee, tracks its status', async () => {
    const { created, vt } = await liveSession();
    const streamStarted = new Promise<SimulatedCall>((resolve) => (sim.onMediaStream = resolve));
    const started = await api('POST', `/api/sessions/${created.sessionId}/phone/start`, { phoneNumber: CALLEE });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const call = await streamStarted;
    assert.deepEqual(started.json, { callId: call.sid, status: 'initiated' });

    // The REST request, field by field (Twilio's Call resource, form-encoded).
    const create = sim.requests.find((r) => r.path === `/2010-04-01/Accounts/${sim.settings.accountSid}/Calls.json`);
    assert.ok(create);
    assert.equal(create.method, 'POST');
    assert.deepEqual([...new Set(create.fields.keys())].sort(), ['From', 'StatusCallback', 'StatusCallbackEvent', 'StatusCallbackMethod', 'To', 'Twiml']);
    assert.equal(create.fields.get('To'), CALLEE);
    assert.equal(create.fields.get('From'), sim.settings.phoneNumber);
    const stream = /^wss:\/\/tolk\.example\.test\/twilio\/phone\/(pc_[\w-]+)\/media\/([\w-]{32})$/.exec(call.twiml?.url ?? '');
    assert.ok(stream, `the Stream url carries the call's reference and a 192-bit token: ${call.twiml?.url}`);
    assert.deepEqual(call.twiml?.parameters, { sessionId: created.sessionId });
    assert.equal(create.fields.get('StatusCallback'), `https://tolk.example.test/twilio/phone/${stream[1]}/status`);
    assert.equal(create.fields.get('StatusCallbackMethod'), 'POST');
    assert.deepEqual(create.fields.getAll('StatusCallbackEvent'), ['initiated', 'ringing', 'answered', 'completed']);

    // Status callbacks moved the stored call along; the callee is a participant of the session.
    assert.deepEqual(callbacksOf(call), ['initiated 204', 'ringing 204', 'in-progress 204']);
    const answered = await callRow(call.sid);
    assert.deepEqual([answered?.provider, answered?.status, answered?.phoneNumber], ['twilio', 'in-progress', CALLEE]);
    assert.ok(answered?.startedAt);
    const media = call.media as TwilioMediaPeer;

    // The callee speaks Spanish (espeak-ng, 8 kHz µ-law at real-time pace): an utterance of the session, translated into English.
    const calleeSpeech = spanishSpeech(8000);
    await media.speak(calleeSpeech);
    const participantId = `phone:${call.sid}`;
    const said = await until('the callee\'s utterance with its translation and latency marks', async () => {
      const [row] = await server.ctx.db.select().from(utterances).where(and(eq(utterances.sessionId, created.sessionId), eq(utterances.participantId, participantId)));
      return row?.translation && row.finalLatencyMs !== null ? row : undefined;
    });
    assert.deepEqual([said.text, said.translation, said.sourceLang, said.targetLang, said.speakerName], [SPANISH, `[en] ${SPANISH}`, 'es', 'en', CALLEE]);
    assert.equal(media.heardMs, 0, 'the callee does not hear the English translation of their own words');

    // Twilio keeps sending (silence) while the call lasts.
    const line = { stopped: false };
    const silence = media.speak(new Int16Array(8000 * 120), line);

    // The /vt speaker says something in English: the callee hears its Spanish translation as µ-law 20 ms frames.
    const vtSpeech = speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: 16000, frequencyHz: 300 });
    await vt.speak(vtSpeech);
    await media.waitFor(() => media.heardMs >= 400 && media.marksEchoed.length > 0, 'the callee hears the session\'s translated speech', 30_000);
    assert.ok(vt.events.some((e) => e.translate?.text === '[es] hello there'), 'the /vt speaker was translated into Spanish');
    assert.deepEqual(media.protocolErrors, []);
    for (const m of media.received.filter((x) => x.event === 'media')) assert.equal(Buffer.from((m.media as { payload: string }).payload, 'base64').length, 160);
    const heard = media.heardSamples();
    const peak = heard.reduce((p, s) => Math.max(p, Math.abs(s)), 0);
    assert.ok(peak > 2000, `non-silent audio (peak ${peak})`);
    const toneHz = toneFrequencyHz(heard.subarray(400, -400), 8000);
    assert.ok(Math.abs(toneHz - FAKE_TTS_FREQUENCY_HZ.female) < 15, `the synthesized translation, at 8 kHz (${toneHz} Hz)`);

    // The callee hangs up: Twilio stops the stream and posts `completed`.
    line.stopped = true;
    await silence;
    const phoneSpeechMs = (calleeSpeech.length / 8000) * 1000;
    await sim.endCall(call);
    assert.deepEqual(callbacksOf(call), ['initiated 204', 'ringing 204', 'in-progress 204', 'completed 204']);
    const ended = await callRow(call.sid);
    assert.deepEqual([ended?.status, ended?.endedReason], ['ended', 'completed']);
    assert.ok(ended?.endedAt);
    await until('the phone leg is gone', async () => phoneCallsOf(server.ctx)?.size === 0);

    // The /vt speaker leaves: the session completes; its usage counts both speakers' audio; intelligence shows the call.
    await vt.close();
    const done = await until('the session completed', async () => ((await sessionRow(created.sessionId))?.status === 'completed' ? sessionRow(created.sessionId) : undefined));
    const vtMs = (vtSpeech.length / 16000) * 1000;
    assert.ok(Number(done?.usageMs) >= vtMs + phoneSpeechMs, `usage ${done?.usageMs} ms counts the phone's ${phoneSpeechMs} ms and the stream's ${vtMs} ms`);
    const intelligence = await api('GET', `/api/sessions/${created.sessionId}/intelligence`);
    assert.equal(intelligence.status, 200);
    assert.equal(intelligence.json.speakerCount, 2);
    assert.deepEqual(intelligence.json.phoneCalls.map((c: Record<string, unknown>) => [c.callId, c.provider, c.phoneNumber, c.status]), [[call.sid, 'twilio', CALLEE, 'ended']]);
  });

  it('refuses unsigned callbacks and sockets, a wrong token and a used one (403), before anything is allocated', async () => {
    const { created, vt } = await liveSession();
    const streamStarted = new Promise<SimulatedCall>((resolve) => (sim.onMediaStream = resolve));
    assert.equal((await api('POST', `/api/sessions/${created.sessionId}/phone/start`, { phoneNumber: CALLEE })).status, 200);
    const call = await streamStarted;
    const url = call.twiml?.url ?? '';
    const ids = { accountSid: sim.settings.accountSid, callSid: call.sid };
    const upgrade = (publicUrl: string, signature: string | undefined) => TwilioMediaPeer.connect({ localUrl: sim.localUrl(publicUrl), signature, ...ids });

    await assert.rejects(upgrade(url, undefined), /HTTP 403/, 'no signature');
    await assert.rejects(upgrade(url, twilioSignature('another-auth-token', url, {})), /HTTP 403/, 'signed with another token');
    const wrongToken = url.replace(/\/media\/[\w-]+$/, '/media/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await assert.rejects(upgrade(wrongToken, twilioSignature(sim.settings.authToken, wrongToken, {})), /HTTP 403/, 'a wrong token, signed');
    await assert.rejects(upgrade(url, twilioSignature(sim.settings.authToken, url, {})), /HTTP 403/, 'the token was used by the call\'s stream');
    assert.equal(await sim.postStatus(call, 'completed', { signature: null }), 403, 'an unsigned status callback');
    assert.equal(await sim.postStatus(call, 'completed', { signature: 'bm90IGEgc2lnbmF0dXJl' }), 403, 'a wrongly signed status callback');
    assert.equal((await callRow(call.sid))?.status, 'in-progress', 'no refused callback changed the call');
    const unknown = sim.settings.publicUrl + '/twilio/phone/pc_unknown/status';
    const params = { CallSid: call.sid, CallStatus: 'completed', AccountSid: sim.settings.accountSid };
    assert.equal(await sim.postForm(unknown, { ...params, CallSid: 'CA00000000000000000000000000000000' }), 404, 'a signed callback of a call Tolk did not place');
    await sim.endCall(call);
    await vt.close();
  });

  it('a session completing while the phone rings hangs the call up through Twilio\'s REST API', async () => {
    const { created, vt } = await liveSession();
    sim.callee = 'ring';
    const started = await api('POST', `/api/sessions/${created.sessionId}/phone/start`, { phoneNumber: CALLEE });
    sim.callee = 'answer';
    assert.equal(started.status, 200);
    const sid = started.json.callId as string;
    await callbackSeen(sid, 'ringing');
    await vt.close();
    await callbackSeen(sid, 'completed');
    const hangUp = sim.requests.find((r) => r.path.endsWith(`/Calls/${sid}.json`));
    assert.ok(hangUp, 'Tolk asked Twilio to end the call');
    assert.deepEqual([hangUp.method, hangUp.fields.get('Status')], ['POST', 'completed']);
    const row = await until('the call ended', async () => {
      const r = await callRow(sid);
      return r?.status === 'ended' ? r : undefined;
    });
    assert.equal(row.endedReason, 'session-completed');
  });

  it('a busy callee: the call is stored failed with the reason', async () => {
    const { created, vt } = await liveSession();
    sim.callee = 'busy';
    const started = await api('POST', `/api/sessions/${created.sessionId}/phone/start`, { phoneNumber: CALLEE });
    sim.callee = 'answer';
    const sid = started.json.callId as string;
    await callbackSeen(sid, 'busy');
    const row = await callRow(sid);
    assert.deepEqual([row?.status, row?.endedReason], ['failed', 'busy']);
    assert.ok(row?.endedAt);
    await vt.close();
  });

  it('Twilio refusing the call is 422 with its message; Twilio failing is 500; validation, roles and status still hold', async () => {
    const { created, vt } = await liveSession();
    const path = `/api/sessions/${created.sessionId}/phone/start`;
    sim.refuseNextCall = { status: 400, code: 21219, message: `The number ${CALLEE} is unverified. Trial accounts cannot send messages or make calls to unverified numbers.` };
    const refused = await api('POST', path, { phoneNumber: CALLEE });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.error.code, 'UNPROCESSABLE');
    assert.match(refused.json.error.message, /^The call was refused: Twilio answered 400 \(error 21219\): The number \+14155551234 is unverified/);
    sim.refuseNextCall = { status: 503, code: 20500, message: 'Internal Server Error' };
    const down = await api('POST', path, { phoneNumber: CALLEE });
    assert.equal(down.status, 500);
    assert.equal(down.json.error.code, 'INTERNAL_ERROR');
    assert.equal(phoneCallsOf(server.ctx)?.size, 0, 'no handle is left from failed dials');
    assert.equal((await api('POST', path, { phoneNumber: '4155550199' })).status, 400);
    assert.equal((await api('POST', path, { phoneNumber: CALLEE }, memberKey)).status, 403);
    const idle = await createSession();
    assert.equal((await api('POST', `/api/sessions/${idle.sessionId}/phone/start`, { phoneNumber: CALLEE })).status, 409);
    assert.equal((await api('POST', '/api/sessions/sess_unknown/phone/start', { phoneNumber: CALLEE })).status, 404);
    await vt.close();
  });
});
