import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeFromLinear, mulawToLinear } from '../src/audio/g711.js';
import { FAKE_TTS_FREQUENCY_HZ, pcmBlocks, speechLikePcm, toneFrequencyHz } from '../src/providers/testing/index.js';
import { startCallsServer, StreamClient, type CallsTestServer, type Json } from './calls-support.js';

/** One utterance: speech then enough silence to end it, at `rateHz`, as a 300 Hz burst. */
function utterance(rateHz: number): Int16Array {
  return speechLikePcm([{ silenceMs: 200 }, { speechMs: 700 }, { silenceMs: 900 }], { sampleRateHz: rateHz, frequencyHz: 300 });
}

/** The decoded s16 samples of the `audio` messages a client received. */
function receivedSamples(client: StreamClient): Int16Array {
  const parts = client.of('audio').map((m: Json) => {
    const bytes = Buffer.from(m.data as string, 'base64');
    return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  });
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('calls stream socket (spec 004 stream.url) with two legs', () => {
  let server: CallsTestServer;
  before(async () => {
    server = await startCallsServer({
      fakes: { stt: { script: (options) => (options.language.startsWith('de') ? ['guten tag'] : ['hello there']) } },
    });
  });
  after(async () => server.close());

  async function createSession(body: object): Promise<Json> {
    const res = await server.call('POST', '/v1/sessions', { source_language: 'de', target_language: 'en', ...body });
    assert.equal(res.status, 201, res.text);
    return res.json;
  }

  it('bidirectional: each leg hears the other translated, in its own format; both read both transcripts', async () => {
    const s = await createSession({ mode: 'bidirectional_translation', recording: { enabled: true, channels: 'dual' } });
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    const agent = await StreamClient.connect(`${s.stream.url}?speaker=agent`, { authorization: `Bearer ${s.stream.token}` });
    assert.deepEqual(await customer.waitFor((m) => m.type === 'session.ready', 'ready'), { type: 'session.ready', session_id: s.id, speaker: 'customer', mode: 'bidirectional_translation' });
    await agent.waitFor((m) => m.type === 'session.ready', 'agent ready');
    assert.equal((await server.call('GET', `/v1/sessions/${s.id}`)).json.status, 'active');

    // The customer speaks German as µ-law at 8 kHz (telephony), in 100 ms messages.
    for (const block of pcmBlocks(utterance(8000), 100, 8000)) {
      customer.send({ type: 'audio', data: encodeFromLinear(block, 'mulaw').toString('base64'), encoding: 'mulaw', sample_rate: 8000, channels: 1 });
    }
    const final = await agent.waitFor((m) => m.type === 'transcript' && m.is_final && m.speaker === 'customer', 'the customer\'s final at the agent');
    assert.equal(final.text, 'guten tag');
    assert.equal(final.language, 'de');
    assert.match(final.id, /^seg_/);
    assert.equal(typeof final.start_time, 'number');
    assert.ok('confidence' in final);
    const interim = agent.messages.find((m) => m.type === 'transcript' && !m.is_final);
    assert.ok(interim, 'interim transcripts come before the final');
    assert.equal(interim.id, final.id, 'interims and the final share the segment id');
    const translation = await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'customer', 'translation');
    assert.deepEqual(translation, { type: 'translation', id: final.id, speaker: 'customer', source_language: 'de', target_language: 'en', text: '[en] guten tag', source_text: 'guten tag' });
    await customer.waitFor((m) => m.type === 'transcript' && m.is_final && m.speaker === 'customer', 'the customer reads their own final');
    await agent.waitFor((m) => m.type === 'audio', 'translated speech for the agent');
    await new Promise((r) => setTimeout(r, 300)); // let the rest of the synthesized audio arrive
    const heard = agent.of('audio');
    assert.deepEqual({ encoding: heard[0].encoding, sample_rate: heard[0].sample_rate, channels: heard[0].channels }, { encoding: 'pcm_16', sample_rate: 16000, channels: 1 });
    assert.ok(Math.abs(toneFrequencyHz(receivedSamples(agent).subarray(800, -800), 16000) - FAKE_TTS_FREQUENCY_HZ.female) < 15, 'the agent hears the synthesized translation');
    assert.equal(customer.of('audio').length, 0, 'nobody hears their own speech back');

    // The agent answers in English as 48 kHz PCM, with the newer docs' audio.input message.
    for (const block of pcmBlocks(utterance(48000), 100, 48000)) {
      const payload = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64');
      agent.send({ type: 'audio.input', speaker: 'agent', audio: { encoding: 'pcm_16', sample_rate_hz: 48000, payload } });
    }
    const answer = await customer.waitFor((m) => m.type === 'translation' && m.speaker === 'agent', 'the agent\'s translation at the customer');
    assert.equal(answer.text, '[de] hello there');
    assert.equal(answer.target_language, 'de');
    const back = await customer.waitFor((m) => m.type === 'audio', 'translated speech for the customer');
    assert.deepEqual([back.encoding, back.sample_rate], ['mulaw', 8000], 'the customer hears it in the format it sends');

    customer.send({ type: 'ping' });
    assert.deepEqual(await customer.waitFor((m) => m.type === 'pong', 'pong'), { type: 'pong', session_id: s.id });

    customer.send({ type: 'session.end' });
    for (const c of [customer, agent]) {
      assert.deepEqual(await c.waitFor((m) => m.type === 'session.ended', 'session.ended'), { type: 'session.ended', session_id: s.id, reason: 'completed' });
      assert.equal((await c.waitClosed()).code, 1000);
    }
    const transcript = (await server.call('GET', `/v1/sessions/${s.id}/transcript`)).json;
    assert.deepEqual(transcript.segments.map((g: Json) => [g.speaker, g.language, g.text, g.translation]), [
      ['customer', 'de', 'guten tag', '[en] guten tag'],
      ['agent', 'en', 'hello there', '[de] hello there'],
    ]);
    const session = (await server.call('GET', `/v1/sessions/${s.id}`)).json;
    assert.equal(session.status, 'ended');
    assert.deepEqual(session.transcript, { available: true, word_count: 4 });
  });

  it('assistive: the agent hears the customer\'s original voice; the customer hears the agent translated', async () => {
    const s = await createSession({ mode: 'assistive_translation' });
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    const agent = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}&speaker=agent`);
    await agent.waitFor((m) => m.type === 'session.ready', 'ready');
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    for (const block of pcmBlocks(utterance(16000), 100, 16000)) {
      customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64'), encoding: 'pcm_16', sample_rate: 16000 });
    }
    await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'customer', 'the agent reads the translation');
    await new Promise((r) => setTimeout(r, 300));
    const relayed = receivedSamples(agent);
    assert.ok(relayed.length >= 16000, 'the agent heard the customer');
    assert.ok(Math.abs(toneFrequencyHz(relayed.subarray(3200, 3200 + 11200), 16000) - 300) < 15, 'the agent hears the original 300 Hz voice, not the synthesized translation');
    for (const block of pcmBlocks(utterance(16000), 100, 16000)) {
      agent.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    }
    await customer.waitFor((m) => m.type === 'audio', 'the customer hears the agent translated');
    assert.ok(Math.abs(toneFrequencyHz(receivedSamples(customer).subarray(800, -800), 16000) - FAKE_TTS_FREQUENCY_HZ.female) < 15);
    await server.call('POST', `/v1/sessions/${s.id}/end`);
    assert.equal((await customer.waitClosed()).code, 1000);
  });

  it('a provider media leg (CallControl.attachMediaLeg, µ-law 8 kHz) is the customer; the agent socket talks with it', async () => {
    const s = await createSession({ mode: 'bidirectional_translation' });
    const calls = server.ctx.callSessions;
    assert.ok(calls);
    const heard: Buffer[] = [];
    const closedWith: string[] = [];
    const media = await calls.attachMediaLeg(s.id, 'customer', { encoding: 'mulaw', sampleRateHz: 8000 }, {
      sendAudio: (chunk) => heard.push(chunk), close: (reason) => closedWith.push(reason),
    });
    const agent = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}&speaker=agent`);
    await agent.waitFor((m) => m.type === 'session.ready', 'ready');
    for (const block of pcmBlocks(utterance(8000), 20, 8000)) media.pushAudio(encodeFromLinear(block, 'mulaw'));
    const final = await agent.waitFor((m) => m.type === 'transcript' && m.is_final, 'the caller\'s final');
    assert.deepEqual([final.speaker, final.text], ['customer', 'guten tag']);
    for (const block of pcmBlocks(utterance(16000), 100, 16000)) {
      agent.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64') });
    }
    await agent.waitFor((m) => m.type === 'translation' && m.speaker === 'agent', 'the agent\'s translation');
    const deadline = Date.now() + 5000;
    while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const bytes = Buffer.concat(heard);
    assert.ok(bytes.length > 800, 'the caller hears the agent translated, as µ-law bytes');
    const samples = Int16Array.from(bytes, (b) => mulawToLinear(b));
    assert.ok(Math.abs(toneFrequencyHz(samples.subarray(400, -400), 8000) - FAKE_TTS_FREQUENCY_HZ.female) < 15);
    await media.end();
    await server.call('POST', `/v1/sessions/${s.id}/end`);
    assert.equal((await agent.waitClosed()).code, 1000);
    assert.deepEqual(closedWith, [], 'a leg that already stopped is not closed again');
    await assert.rejects(calls.attachMediaLeg(s.id, 'customer', { encoding: 'mulaw', sampleRateHz: 8000 }, { sendAudio: () => undefined, close: () => undefined }), /has ended/);
  });

  it('refusals: a wrong token is invalid_token and close 4401; an ended session 4409; a bad format is a non-fatal error', async () => {
    const s = await createSession({ mode: 'bidirectional_translation' });
    const wrong = await StreamClient.connect(`${s.stream.url}?token=kst_live_${'x'.repeat(32)}`);
    assert.equal((await wrong.waitClosed()).code, 4401);
    assert.deepEqual(wrong.messages[0].error, { code: 'invalid_token', message: 'Invalid or expired stream token', type: 'authentication_error' });
    const none = await StreamClient.connect(s.stream.url);
    assert.equal((await none.waitClosed()).code, 4401);
    const client = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    await client.waitFor((m) => m.type === 'session.ready', 'ready');
    client.send({ type: 'audio', data: 'AAAA', encoding: 'opus', sample_rate: 16000 });
    const err = await client.waitFor((m) => m.type === 'error', 'format error');
    assert.equal(err.error.code, 'invalid_audio_format');
    client.send({ type: 'nonsense' });
    await client.waitFor((m) => m.type === 'error' && m.error.code === 'invalid_request', 'unknown message error');
    assert.equal(client.closed, undefined, 'bad messages do not end the stream');
    await server.call('POST', `/v1/sessions/${s.id}/end`);
    await client.waitClosed();
    const late = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    assert.equal((await late.waitClosed()).code, 4409);
  });
});
