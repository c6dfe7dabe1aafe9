import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeToLinear, encodeFromLinear } from '../src/audio/g711.js';
import { resample } from '../src/audio/resampler.js';
import { writeWav } from '../src/audio/wav.js';
import { loadConfig } from '../src/config.js';
import { closeEngines } from '../src/providers/index.js';
import { FAKE_TTS_FREQUENCY_HZ, createFakeEngines, pcmBlocks, speechLikePcm, toneFrequencyHz } from '../src/providers/testing/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { StreamClient, type Json } from './calls-support.js';
import { librivoxRecordings, loadWav, pocketsphinxContinuous, testEngines, wordErrors } from './helpers.js';
import type { TwilioMediaPeer } from './twilio-media-peer.js';
import { TwilioSimulator, type SimulatedCall } from './twilio-simulator.js';

/** One utterance: speech then enough silence to end it, at `rateHz` (a 300 Hz burst the fake recognizer hears). */
function utterance(rateHz: number): Int16Array {
  return speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: rateHz, frequencyHz: 300 });
}

/**
 * A whole phone call: `POST /v1/sessions` with a Twilio provider places the call through the
 * Twilio simulator; the callee answers, its Media Stream becomes the customer leg; an agent joins on
 * the session's `stream.url`; each hears the other translated; a hang-up ends the session.
 */
describe('a Twilio phone call in a call session (spec 004)', () => {
  const sim = new TwilioSimulator();
  let server: RunningServer;
  let apiKey: string;

  before(async () => {
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', twilio: { ok: true, settings: sim.settings } });
    // 200 ms of synthesized speech per character: a translation plays for seconds (barge-in has time to happen).
    const engines = createFakeEngines({ stt: { script: (options) => (options.language.startsWith('de') ? ['guten tag'] : ['hello there']) }, tts: { msPerChar: 200 } });
    server = await startServer(config, { engines, twilioHttpClient: sim.httpClient });
    sim.attach(server.url);
    apiKey = server.firstOwnerKey ?? '';
  });
  after(() => server.close());

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  /** Creates a session that calls +14155551234; resolves once the callee answered and its Media Stream started. */
  async function callCustomer(extra: Record<string, unknown> = {}): Promise<{ session: Json; twilioCall: SimulatedCall; media: TwilioMediaPeer }> {
    const started = new Promise<SimulatedCall>((resolve) => (sim.onMediaStream = resolve));
    const created = await call('POST', '/v1/sessions', {
      mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', provider: { type: 'twilio', phone_number: '+14155551234' }, ...extra,
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json.provider, { type: 'twilio', phone_number: '+14155551234', status: 'pending' });
    const twilioCall = await started;
    assert.equal(twilioCall.to, '+14155551234');
    assert.deepEqual(twilioCall.twiml?.parameters, { sessionId: created.json.id });
    assert.ok(twilioCall.media);
    return { session: created.json, twilioCall, media: twilioCall.media };
  }

  it('both sides hear the other translated; the caller hanging up ends the session; the dual recording holds both sides', async () => {
    const { session, twilioCall, media } = await callCustomer({ recording: { enabled: true, channels: 'dual' } });
    const agent = await StreamClient.connect(`${session.stream.url}?token=${session.stream.token}&speaker=agent`);
    await agent.waitFor((m) => m.type === 'session.ready', 'the agent is ready');
    const now = (await call('GET', `/v1/sessions/${session.id}`)).json;
    assert.deepEqual([now.status, now.provider.status, now.provider.call_sid], ['active', 'connected', twilioCall.sid]);

    // The customer speaks German on the phone: 20 ms µ-law frames at real-time pace.
    await media.speak(utterance(8000));
    const final = await agent.waitFor((m) => m.type === 'transcript' && m.is_final && m.speaker === 'customer', 'the caller\'s final at the agent');
    assert.deepEqual([final.text, final.language], ['guten tag', 'de']);
    const translation = await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'customer', 'the caller translated');
    assert.equal(translation.text, '[en] guten tag');
    await agent.waitFor((m) => m.type === 'audio', 'the caller\'s translated speech at the agent');

    // The agent answers in English over the stream socket; the caller hears it translated, as µ-law.
    for (const block of pcmBlocks(utterance(16000), 100, 16000)) {
      agent.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    }
    await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'agent', 'the agent translated');
    await media.waitFor(() => media.heardMs >= 400 && media.marksEchoed.length > 0, 'the caller hears the agent\'s translation played', 15_000);
    assert.deepEqual(media.protocolErrors, []);
    const heard = media.heardSamples();
    assert.ok(Math.abs(toneFrequencyHz(heard.subarray(400, -400), 8000) - FAKE_TTS_FREQUENCY_HZ.female) < 15, 'the synthesized translation, at 8 kHz');
    for (const m of media.received.filter((x) => x.event === 'media')) assert.equal(Buffer.from((m.media as { payload: string }).payload, 'base64').length, 160);

    assert.equal(media.clears, 0, 'the caller spoke while nothing played: no clear');

    // The caller hangs up: Twilio stops the stream and posts `completed`; the session ends.
    await sim.endCall(twilioCall);
    await agent.waitClosed();
    const ended = (await call('GET', `/v1/sessions/${session.id}`)).json;
    assert.deepEqual([ended.status, ended.provider.status], ['ended', 'completed']);
    assert.deepEqual(twilioCall.callbacks.map((c) => `${c.CallStatus} ${c.httpStatus}`), ['initiated 204', 'ringing 204', 'in-progress 204', 'completed 204']);

    // The recording: customer (the phone leg) on the left, agent on the right, each holding its side's speech.
    const recordings = (await call('GET', `/v1/sessions/${session.id}/recordings`)).json;
    assert.equal(recordings.data.length, 1);
    const rec = recordings.data[0];
    assert.deepEqual([rec.channel, rec.status, rec.format, rec.channels], ['dual', 'ready', 'wav', 2]);
    const res = await fetch(`${server.url}${rec.download_url}`, { headers: { authorization: `Bearer ${apiKey}` } });
    assert.equal(res.status, 200);
    const wav = Buffer.from(await res.arrayBuffer());
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
    assert.equal(wav.readUInt16LE(22), 2, 'two channels');
    const peaks = [0, 0];
    for (let i = 44; i + 3 < wav.length; i += 4) {
      peaks[0] = Math.max(peaks[0] ?? 0, Math.abs(wav.readInt16LE(i)));
      peaks[1] = Math.max(peaks[1] ?? 0, Math.abs(wav.readInt16LE(i + 2)));
    }
    assert.ok((peaks[0] ?? 0) > 2000, `the caller's speech on the left channel (peak ${peaks[0]})`);
    assert.ok((peaks[1] ?? 0) > 2000, `the agent's speech on the right channel (peak ${peaks[1]})`);
  });

  it('barge-in: the caller speaking over the agent\'s translation clears what Twilio has buffered', async () => {
    const { session, twilioCall, media } = await callCustomer();
    const agent = await StreamClient.connect(`${session.stream.url}?token=${session.stream.token}&speaker=agent`);
    await agent.waitFor((m) => m.type === 'session.ready', 'the agent is ready');
    for (const block of pcmBlocks(utterance(16000), 100, 16000)) {
      agent.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    }
    // "[de] hello there" plays for 3.2 s; the caller starts talking as soon as it begins.
    await media.waitFor(() => media.heardMs > 0, 'the translation starts playing', 15_000);
    const marksSent = (): number => media.received.filter((m) => m.event === 'mark').length;
    assert.ok(marksSent() > media.marksEchoed.length, 'audio is still playing');
    await media.speak(utterance(8000));
    await media.waitFor(() => media.clears === 1, 'clear');
    await media.waitFor(() => media.marksEchoed.length === marksSent(), 'Twilio reports the cleared marks');
    assert.deepEqual(media.protocolErrors, []);
    await sim.endCall(twilioCall);
    await agent.waitClosed();
  });

  it('ending the session hangs up the phone call through Twilio\'s REST API', async () => {
    const { session, twilioCall, media } = await callCustomer();
    const ended = await call('POST', `/v1/sessions/${session.id}/end`);
    assert.equal(ended.status, 200);
    const hangUp = sim.requests.find((r) => r.path.endsWith(`/Calls/${twilioCall.sid}.json`));
    assert.ok(hangUp, 'Tolk asked Twilio to end the call');
    assert.deepEqual([hangUp.method, hangUp.fields.get('Status')], ['POST', 'completed']);
    await media.waitFor(() => media.closedWith !== undefined, 'the Media Stream closed');
    assert.equal((await call('GET', `/v1/sessions/${session.id}`)).json.status, 'ended');
  });
});

/**
 * A LibriVox reading over the phone with the offline engines: Twilio's 8 kHz µ-law is all the
 * recognizer gets. The agent reads the caller's English transcript and its Spanish translation and
 * hears it spoken.
 */
describe('a LibriVox caller on a Twilio call, offline engines', () => {
  const sim = new TwilioSimulator();
  let server: RunningServer;

  before(async () => {
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', twilio: { ok: true, settings: sim.settings } });
    server = await startServer(config, { engines: await testEngines(), twilioHttpClient: sim.httpClient });
    sim.attach(server.url);
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('the agent reads the caller\'s words (no worse than the CLI on the same 8 kHz audio), their Spanish translation, and hears it', async () => {
    const recording = librivoxRecordings().find((r) => r.id.endsWith('0880'));
    assert.ok(recording);
    const started = new Promise<SimulatedCall>((resolve) => (sim.onMediaStream = resolve));
    const res = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${server.firstOwnerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'bidirectional_translation', source_language: 'en', target_language: 'es', provider: { type: 'twilio', phone_number: '+14155551234' } }),
    });
    const session = (await res.json()) as Json;
    assert.equal(res.status, 201);
    const media = (await started).media;
    assert.ok(media);
    const agent = await StreamClient.connect(`${session.stream.url}?token=${session.stream.token}&speaker=agent`);
    await agent.waitFor((m) => m.type === 'session.ready', 'the agent is ready');
    const { samples, sampleRateHz } = loadWav(recording.path);
    const speech8k = resample(samples, sampleRateHz, 8000);
    const withPause = new Int16Array(speech8k.length + 8000); // one second of silence ends the utterance
    withPause.set(speech8k);
    await media.speak(withPause);
    const final = await agent.waitFor((m) => m.type === 'transcript' && m.is_final && m.speaker === 'customer', 'the caller\'s final');
    const { errors, words } = wordErrors(recording.reference, final.text);
    console.log(`# LibriVox 0880 over Twilio µ-law 8 kHz: "${final.text}" — ${errors}/${words} word errors (reference: "${recording.reference}")`);
    // The baseline: pocketsphinx_continuous on the same narrowband audio (8 kHz, µ-law, back to 16 kHz).
    const narrowband = resample(decodeToLinear(encodeFromLinear(speech8k, 'mulaw'), 'mulaw'), 8000, 16000);
    const wavPath = path.join(os.tmpdir(), `tolk-twilio-${process.pid}.wav`);
    fs.writeFileSync(wavPath, writeWav({ samples: narrowband, sampleRateHz: 16000 }));
    const baseline = wordErrors(recording.reference, pocketsphinxContinuous(wavPath));
    fs.rmSync(wavPath, { force: true });
    console.log(`# the CLI on the same 8 kHz audio: ${baseline.errors}/${baseline.words} word errors`);
    assert.ok(errors < words, `some of the caller's words come through: "${final.text}"`);
    assert.ok(errors <= baseline.errors, `no worse than the CLI on the same narrowband audio (${errors} vs ${baseline.errors} errors)`);
    const translation = await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'customer', 'the Spanish translation');
    assert.equal(translation.target_language, 'es');
    assert.ok(translation.text.length > 0 && translation.text !== final.text, `translated: ${translation.text}`);
    await agent.waitFor((m) => m.type === 'audio', 'the translation spoken to the agent');
    media.stop();
    await agent.waitClosed();
  });
});
