import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import twilio from 'twilio';
import { resample } from '../src/audio/resampler.js';
import { TwilioCallTelephony, telephonyUnavailableError } from '../src/api/telephony/twilio.js';
import { isProviderStatusProgress, providerStatusFromCallStatus } from '../src/api/telephony/twilio-status.js';
import { loadConfig } from '../src/config.js';
import { closeEngines } from '../src/providers/index.js';
import { twilioSettingsFromEnv } from '../src/integrations/twilio-settings.js';
import { startServer, type RunningServer } from '../src/server.js';
import { librivoxSamples, testEngines } from './helpers.js';
import { RecordingCallControl } from './twilio-calls-fake.js';
import { TwilioMediaPeer, decodeMulaw, encodeMulaw } from './twilio-media-peer.js';
import { TwilioSimulator, twilioSignature, type SimulatedCall } from './twilio-simulator.js';

// The engines are shared by the servers of this file; closing them lets the process exit.
after(async () => closeEngines(await testEngines()));

describe('Twilio settings', () => {
  it('names every missing variable in a 422 fix-it error', () => {
    const result = twilioSettingsFromEnv({ TWILIO_ACCOUNT_SID: 'XX123', TWILIO_PHONE_NUMBER: '4155551234' });
    assert.equal(result.ok, false);
    const error = telephonyUnavailableError(loadConfig({ TWILIO_ACCOUNT_SID: 'XX123', TWILIO_PHONE_NUMBER: '4155551234' }));
    assert.equal(error.status, 422);
    assert.equal(error.code, 'UNPROCESSABLE');
    for (const text of ['TWILIO_ACCOUNT_SID must start with AC', 'TWILIO_AUTH_TOKEN is not set', 'TWILIO_PHONE_NUMBER must be an E.164 number', 'TOLK_PUBLIC_URL is not set', 'restart Tolk']) {
      assert.ok(error.message.includes(text), `${text} in: ${error.message}`);
    }
  });

  it('reads a complete configuration, without a trailing slash on the public URL', () => {
    const result = twilioSettingsFromEnv({ TWILIO_ACCOUNT_SID: 'AC0123', TWILIO_AUTH_TOKEN: 'tok', TWILIO_PHONE_NUMBER: '+14155550100', TOLK_PUBLIC_URL: 'https://tolk.example.com/' });
    assert.deepEqual(result, { ok: true, settings: { accountSid: 'AC0123', authToken: 'tok', phoneNumber: '+14155550100', publicUrl: 'https://tolk.example.com' } });
  });
});

describe('CallStatus → provider.status', () => {
  it('maps every documented CallStatus', () => {
    const expected = {
      queued: 'pending', initiated: 'pending', ringing: 'ringing', 'in-progress': 'connected', completed: 'completed',
      busy: 'failed', 'no-answer': 'failed', canceled: 'failed', failed: 'failed',
    } as const;
    for (const [callStatus, status] of Object.entries(expected)) assert.equal(providerStatusFromCallStatus(callStatus), status, callStatus);
    assert.equal(providerStatusFromCallStatus('answered-by-robot'), undefined);
  });

  it('only moves forward', () => {
    assert.equal(isProviderStatusProgress('pending', 'ringing'), true);
    assert.equal(isProviderStatusProgress('connected', 'ringing'), false);
    assert.equal(isProviderStatusProgress('completed', 'failed'), false);
    assert.equal(isProviderStatusProgress('ringing', 'failed'), true);
  });
});

describe('Twilio calls through the simulator', () => {
  const sim = new TwilioSimulator();
  const calls = new RecordingCallControl();
  let server: RunningServer;
  let telephony: TwilioCallTelephony;
  let nextSession = 0;

  before(async () => {
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', twilio: { ok: true, settings: sim.settings } });
    server = await startServer(config, { engines: await testEngines(), twilioHttpClient: sim.httpClient });
    // The transport is checked against a recording stand-in of the calls side (CallControl only).
    server.ctx.calls = calls;
    sim.attach(server.url);
    assert.ok(server.ctx.telephony instanceof TwilioCallTelephony);
    telephony = server.ctx.telephony;
  });
  after(() => server.close());

  /** A waiting session, and its call placed through Tolk's telephony. */
  async function placeCall(): Promise<{ sessionId: string; call: SimulatedCall }> {
    const sessionId = `sess_test${++nextSession}`;
    const session = calls.addSession(sessionId);
    const { providerCallId } = await telephony.placeCall(session);
    const call = sim.calls.get(providerCallId);
    assert.ok(call, 'the simulator knows the call');
    return { sessionId, call };
  }

  it('places the call with <Connect><Stream> TwiML and signed status callbacks: ringing → connected, the stream is the customer leg', async () => {
    const { sessionId, call } = await placeCall();
    const request = sim.requests.find((r) => r.fields.get('Twiml')?.includes(sessionId));
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, `/2010-04-01/Accounts/${sim.settings.accountSid}/Calls.json`);
    assert.equal(request.fields.get('To'), '+14155551234');
    assert.equal(request.fields.get('StatusCallback'), `${sim.settings.publicUrl}/twilio/status/${sessionId}`);
    assert.deepEqual(call.twiml, { url: `wss://tolk.example.test/twilio/media/${sessionId}`, parameters: { sessionId } });
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected']);
    assert.deepEqual(call.callbacks.map((c) => [c.CallStatus, c.httpStatus]), [['initiated', 204], ['ringing', 204], ['in-progress', 204]]);
    const leg = calls.legs.find((l) => l.sessionId === sessionId);
    assert.deepEqual([leg?.leg, leg?.format], ['customer', { encoding: 'pcm16', sampleRateHz: 8000 }]);
    assert.equal(calls.updates.find((u) => u.status === 'connected' && u.sessionId === sessionId)?.providerCallId, call.sid);
  });

  it('decodes the caller\'s µ-law frames, paced in real time, into s16le at 8 kHz, sample for sample', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    const speech = resample(librivoxSamples('0880').subarray(0, 16000), 16000, 8000); // 1 s
    await call.media?.speak(speech);
    const leg = calls.legs.find((l) => l.sessionId === sessionId);
    assert.ok(leg);
    await calls.waitFor(() => Buffer.concat(leg.pushed).length >= speech.length * 2, 'all caller audio');
    const pushed = Buffer.concat(leg.pushed);
    const expected = decodeMulaw(encodeMulaw(speech));
    assert.equal(pushed.length, expected.length * 2);
    for (let i = 0; i < expected.length; i++) assert.equal(pushed.readInt16LE(i * 2), expected[i], `sample ${i}`);
  });

  it('plays the session\'s audio as 20 ms base64 µ-law frames with marks Twilio echoes, and clears on barge-in', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    const leg = calls.legs.find((l) => l.sessionId === sessionId);
    const media = call.media;
    assert.ok(leg && media);
    const tone = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const bytes = Buffer.from(tone.buffer);
    for (let offset = 0; offset < bytes.length; offset += 333) leg.sink.sendAudio(bytes.subarray(offset, offset + 333)); // odd sizes on purpose
    await media.waitFor(() => media.heardMs >= 1000 && media.marksEchoed.length > 0 && media.received.filter((m) => m.event === 'mark').length === media.marksEchoed.length, 'the tone played and its marks echoed', 10_000);
    assert.deepEqual(media.protocolErrors, []);
    const frames = media.received.filter((m) => m.event === 'media');
    assert.equal(frames.length, 50, 'one second is fifty 20 ms frames');
    for (const f of frames) assert.equal(Buffer.from((f.media as { payload: string }).payload, 'base64').length, 160);
    const heard = media.heardSamples();
    const expected = decodeMulaw(encodeMulaw(tone));
    assert.deepEqual(Array.from(heard.subarray(0, 8000)), Array.from(expected), 'the caller hears the tone µ-law-exact');
    // Barge-in: five seconds queued, then the session clears.
    leg.sink.sendAudio(Buffer.from(new Int16Array(40_000).fill(3000).buffer));
    leg.sink.clearAudio?.();
    await media.waitFor(() => media.clears === 1, 'clear');
    assert.deepEqual(media.protocolErrors, []);
  });

  it('hang-up from Tolk completes the call: Twilio stops the stream and posts completed, the leg ends', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    await telephony.hangUp(call.sid);
    await calls.waitFor(() => calls.statusesOf(sessionId).includes('completed'), 'completed');
    const leg = calls.legs.find((l) => l.sessionId === sessionId);
    await calls.waitFor(() => leg?.ended === true, 'the leg ended');
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected', 'completed']);
    assert.equal(calls.sessions.get(sessionId)?.status, 'ended');
    await telephony.hangUp(call.sid); // a call that already ended: no error
  });

  it('the caller hanging up ends the leg and reports completed', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    await sim.endCall(call);
    await calls.waitFor(() => calls.legs.find((l) => l.sessionId === sessionId)?.ended === true, 'the leg ended');
    await calls.waitFor(() => calls.statusesOf(sessionId).at(-1) === 'completed', 'completed');
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected', 'completed']);
  });

  for (const callee of ['busy', 'no-answer', 'failed'] as const) {
    it(`a ${callee} callee makes provider.status failed (reason ${callee}), with no stream`, async () => {
      sim.callee = callee;
      try {
        const { sessionId } = await placeCall();
        await calls.waitFor(() => calls.statusesOf(sessionId).includes('failed'), 'failed');
        assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'failed']);
        assert.equal(calls.updates.find((u) => u.sessionId === sessionId && u.status === 'failed')?.reason, callee);
        assert.equal(calls.legs.some((l) => l.sessionId === sessionId), false);
      } finally {
        sim.callee = 'answer';
      }
    });
  }

  it('ignores a status callback that arrives out of order', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.statusesOf(sessionId).includes('connected'), 'connected');
    assert.equal(await sim.postStatus(call, 'ringing'), 204);
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected']);
  });

  it('passes Twilio\'s REST errors on (code, status, message, more_info)', async () => {
    const session = calls.addSession(`sess_bad${++nextSession}`, { phoneNumber: '555' });
    await assert.rejects(telephony.placeCall(session), (err: unknown) => {
      assert.ok(err instanceof twilio.RestException);
      assert.deepEqual([err.status, err.code, err.moreInfo], [400, 21211, 'https://www.twilio.com/docs/errors/21211']);
      assert.match(err.message, /Invalid 'To' Phone Number/);
      return true;
    });
  });

  it('rejects status callbacks without, with a wrong, or with another request\'s X-Twilio-Signature (403), and changes nothing', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.statusesOf(sessionId).includes('connected'), 'connected');
    const url = `${sim.settings.publicUrl}/twilio/status/${sessionId}`;
    const params = { CallSid: call.sid, CallStatus: 'completed', AccountSid: sim.settings.accountSid };
    assert.equal(await sim.postForm(url, params, null), 403);
    assert.equal(await sim.postForm(url, params, twilioSignature('not-the-token', url, params)), 403);
    assert.equal(await sim.postForm(url, params, twilioSignature(sim.settings.authToken, url, { ...params, CallStatus: 'ringing' })), 403);
    assert.equal(await sim.postForm(url, params, twilioSignature(sim.settings.authToken, `${sim.settings.publicUrl}/twilio/status/other`, params)), 403);
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected']);
    assert.equal(await sim.postForm(url, params), 204);
    assert.deepEqual(calls.statusesOf(sessionId), ['ringing', 'connected', 'completed']);
  });

  it('refuses a Media Stream upgrade without or with a wrong signature (403), and attaches nothing', async () => {
    const sessionId = `sess_ws${++nextSession}`;
    calls.addSession(sessionId);
    const twiml = { url: `wss://tolk.example.test/twilio/media/${sessionId}`, parameters: { sessionId } };
    const call: SimulatedCall = { sid: 'CA' + '0'.repeat(32), to: '+1', from: '+1', direction: 'inbound', status: 'in-progress', twiml, callbacks: [] };
    await assert.rejects(sim.openMedia(call, { signature: null }), /HTTP 403/);
    await assert.rejects(sim.openMedia(call, { signature: twilioSignature('wrong', twiml.url, {}) }), /HTTP 403/);
    await assert.rejects(sim.openMedia(call, { signature: twilioSignature(sim.settings.authToken, twiml.url.replace(sessionId, 'sess_other'), {}) }), /HTTP 403/);
    assert.equal(calls.legs.some((l) => l.sessionId === sessionId), false);
  });

  it('closes a Media Stream whose start announces another format (1003), and skips malformed messages', async () => {
    const { sessionId, call } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    call.media?.sendRaw('{"event":"media","media":{}}');
    call.media?.sendRaw('not json');
    call.media?.sendMedia(Buffer.alloc(160, 0xff));
    const leg = calls.legs.find((l) => l.sessionId === sessionId);
    await calls.waitFor(() => (leg?.pushed.length ?? 0) > 0, 'the valid frame after the malformed ones');
    assert.equal(Buffer.concat(leg?.pushed ?? []).length, 320, 'one 20 ms frame, decoded to s16le');
    const twiml = { url: `wss://tolk.example.test/twilio/media/${sessionId}`, parameters: { sessionId } };
    const wrong = await TwilioMediaPeer.connect({ localUrl: sim.localUrl(twiml.url), signature: twilioSignature(sim.settings.authToken, twiml.url, {}), accountSid: sim.settings.accountSid, callSid: 'CA' + '2'.repeat(32) });
    wrong.start({}, { encoding: 'audio/l16', sampleRate: 16000, channels: 1 });
    await wrong.waitFor(() => wrong.closedWith !== undefined, 'the close');
    assert.equal(wrong.closedWith?.code, 1003);
    assert.match(wrong.closedWith?.reason ?? '', /expected audio\/x-mulaw 8000 Hz mono/);
    assert.equal(calls.legs.filter((l) => l.sessionId === sessionId).length, 1, 'no second leg');
  });

  it('one signed Media Stream URL attaches one media leg: a replayed upgrade is closed at its start (1008), nothing is added to the call', async () => {
    const { sessionId } = await placeCall();
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the customer leg');
    const twiml = { url: `wss://tolk.example.test/twilio/media/${sessionId}`, parameters: { sessionId } };
    const replay = await TwilioMediaPeer.connect({ localUrl: sim.localUrl(twiml.url), signature: twilioSignature(sim.settings.authToken, twiml.url, {}), accountSid: sim.settings.accountSid, callSid: 'CA' + '3'.repeat(32) });
    replay.start({}, { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 });
    await replay.waitFor(() => replay.closedWith !== undefined, 'the close');
    assert.equal(replay.closedWith?.code, 1008);
    assert.match(replay.closedWith?.reason ?? '', /already has its media stream/);
    assert.equal(calls.legs.filter((l) => l.sessionId === sessionId).length, 1, 'no second leg');
  });

  it('attaches an inbound call to the waiting session named in its voice webhook, and answers others with <Hangup/>', async () => {
    const sessionId = `sess_in${++nextSession}`;
    calls.addSession(sessionId, { phoneNumber: null });
    const voiceUrl = `${sim.settings.publicUrl}/twilio/voice/${sessionId}`;
    const form = { CallSid: 'CA' + '1'.repeat(32), From: '+14155550199' };
    assert.equal(await sim.postForm(voiceUrl, form, null), 403);
    assert.equal(await sim.postForm(voiceUrl, form, twilioSignature('not-the-token', voiceUrl, form)), 403);
    assert.equal(calls.updates.some((u) => u.sessionId === sessionId), false, 'an unsigned webhook attaches nothing');
    const { call, httpStatus, twiml } = await sim.inboundCall(voiceUrl);
    assert.equal(httpStatus, 200);
    assert.deepEqual(call.twiml, { url: `wss://tolk.example.test/twilio/media/${sessionId}`, parameters: { sessionId } });
    await calls.waitFor(() => calls.legs.some((l) => l.sessionId === sessionId), 'the inbound customer leg');
    assert.match(twiml, /<Connect><Stream/);
    assert.equal(calls.updates.find((u) => u.sessionId === sessionId)?.providerCallId, call.sid);
    // The session has its call now: a second caller is hung up on, as is a caller for an unknown session.
    for (const url of [voiceUrl, `${sim.settings.publicUrl}/twilio/voice/sess_unknown`]) {
      const second = await sim.inboundCall(url);
      assert.equal(second.httpStatus, 200);
      assert.match(second.twiml, /<Response><Hangup\/><\/Response>/);
    }
    // The caller hangs up (inbound calls have no status callbacks): the stream's stop completes it.
    call.media?.stop();
    await calls.waitFor(() => calls.statusesOf(sessionId).at(-1) === 'completed', 'completed');
  });
});

describe('Twilio not configured', () => {
  let server: RunningServer;
  before(async () => {
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' });
    server = await startServer(config, { engines: await testEngines() });
  });
  after(() => server.close());

  it('has no telephony, and Twilio\'s endpoints answer 503 with the fix-it message', async () => {
    assert.equal(server.ctx.telephony, undefined);
    const res = await fetch(`${server.url}/twilio/status/sess_x`, { method: 'POST', body: new URLSearchParams({ CallStatus: 'ringing' }) });
    assert.equal(res.status, 503);
    assert.match(await res.text(), /Twilio is not configured on this server: TWILIO_ACCOUNT_SID is not set.*TOLK_PUBLIC_URL/);
  });

  it('refuses a session with a Twilio provider at creation: 422 with the fix-it message', async () => {
    const create = (body: object) => fetch(`${server.url}/v1/sessions`, {
      method: 'POST', headers: { Authorization: `Bearer ${server.firstOwnerKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const res = await create({ mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', provider: { type: 'twilio', phone_number: '+14155551234' } });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { error: { code: string; message: string; param: string } };
    assert.equal(body.error.code, 'telephony_not_configured');
    assert.equal(body.error.param, 'provider');
    assert.match(body.error.message, /Twilio is not configured on this server: TWILIO_ACCOUNT_SID is not set; TWILIO_AUTH_TOKEN is not set; TWILIO_PHONE_NUMBER is not set; TOLK_PUBLIC_URL is not set\. Set TWILIO_ACCOUNT_SID/);
    // Without a provider the session is created as before.
    const plain = await create({ mode: 'bidirectional_translation', source_language: 'de', target_language: 'en' });
    assert.equal(plain.status, 201);
  });
});
