import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { fetchSessionKey, streamAudio, vtUrl, type StreamAudioResult } from '../src/client/vt-client.js';
import { closeEngines } from '../src/providers/index.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const GOOD_CONFIG = {
  audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 },
  source_language: 'en-US', target_language: 'es-ES', voice: 'male',
  metadata: { reference_id: 'bad-input' },
};

/** Opens /vt, sends `messages` in order and returns the first event and the close code/reason. */
async function exchange(url: string, messages: Array<string | Buffer>): Promise<{ event: Record<string, Record<string, unknown>>; code: number; reason: string }> {
  const ws = new WebSocket(url);
  const events: string[] = [];
  ws.on('message', (d, isBinary) => {
    if (!isBinary) events.push(d.toString());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  for (const m of messages) ws.send(m);
  const timer = setTimeout(() => ws.terminate(), 10_000);
  const { code, reason } = await closed;
  clearTimeout(timer);
  assert.ok(events[0], `no event before close ${code}`);
  return { event: JSON.parse(events[0]) as Record<string, Record<string, unknown>>, code, reason };
}

describe('/vt bad input: documented error event, close 4000 + status, healthy session unaffected', () => {
  let server: Server;
  let url: string;
  let healthy: Promise<StreamAudioResult>;

  before(async () => {
    server = await startTestServer();
    url = vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey, 600));
    // A healthy session streams real speech while every bad client comes and goes.
    const recording = librivoxRecordings().find((r) => r.id.endsWith('0870'));
    assert.ok(recording);
    const { samples, sampleRateHz } = loadWav(recording.path);
    healthy = streamAudio({ url, config: { ...GOOD_CONFIG, transcript: { interim: true } }, samples, sampleRateHz });
  });

  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  const cases: Array<{ name: string; status: number; messages: () => Array<string | Buffer>; description: RegExp; urlOf?: () => string }> = [
    { name: 'malformed JSON', status: 400, messages: () => ['{"config": {'], description: /Malformed JSON/ },
    { name: 'binary audio before the config', status: 400, messages: () => [Buffer.alloc(640)], description: /before the config/ },
    { name: 'config without the config object', status: 400, messages: () => [JSON.stringify({ source_language: 'en-US' })], description: /Malformed config/ },
    { name: 'invalid audio format', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, audio: { format: 'mulaw', sample_rate: 8000, channels: 1 } } })], description: /Invalid audio format/ },
    { name: 'invalid sample rate', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, audio: { sample_rate: 44100 } } })], description: /sample_rate 44100/ },
    { name: 'stereo audio', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, audio: { channels: 2 } } })], description: /channels/ },
    { name: 'unsupported source language', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, source_language: 'fr-FR' } })], description: /Unsupported source_language/ },
    { name: 'unsupported language pair', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, target_language: 'de-DE' } })], description: /Unsupported target_language/ },
    { name: 'malformed target language', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, target_language: 'spanish!' } })], description: /Incorrect target_language/ },
    { name: 'invalid voice', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, voice: 'robot' } })], description: /Invalid voice/ },
    // Its description is over 123 bytes of UTF-8: the close reason is cut on a character boundary.
    { name: 'a voice of 100 "é"', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, voice: 'é'.repeat(100) } })], description: /Invalid voice "é+"/ },
    { name: 'missing voice', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, voice: undefined } })], description: /voice is required/ },
    { name: 'a target language with no installed voice', status: 400, messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, target_language: 'gl-ES' } })], description: /Invalid voice/ },
    {
      name: 'an oversized frame', status: 400, description: /exceeds/,
      messages: () => [JSON.stringify({ config: GOOD_CONFIG }), Buffer.alloc(server.ctx.config.maxFrameBytes + 2)],
    },
    { name: 'missing key', status: 401, urlOf: () => url.replace(/\?.*$/, ''), messages: () => [JSON.stringify({ config: GOOD_CONFIG })], description: /Missing API key/ },
    { name: 'invalid key', status: 401, urlOf: () => vtUrl(server.url, 'vt_not-a-real-session-key'), messages: () => [JSON.stringify({ config: GOOD_CONFIG })], description: /Invalid or expired/ },
    { name: 'invalid api_key in the config', status: 401, urlOf: () => url.replace(/\?.*$/, ''), messages: () => [JSON.stringify({ config: { ...GOOD_CONFIG, api_key: 'ip_live_wrong' } })], description: /Invalid or expired/ },
  ];

  for (const c of cases) {
    it(`${c.name} → error ${c.status}, close ${4000 + c.status}`, async () => {
      const { event, code } = await exchange(c.urlOf?.() ?? url, c.messages());
      assert.equal(event.error?.code, c.status);
      assert.equal(event.error?.reason, c.status === 400 ? 'Bad Request' : 'Unauthorized');
      assert.match(String(event.error?.description), c.description);
      // reference_id is echoed whenever the config carried one.
      const sentConfig = c.messages().some((m) => typeof m === 'string' && m.includes('"reference_id"'));
      assert.equal(event.error?.reference_id, sentConfig ? 'bad-input' : undefined);
      assert.equal(code, 4000 + c.status);
    });
  }

  it('an expired session key → error 401, close 4401', async () => {
    const shortLived = await fetchSessionKey(server.url, server.apiKey, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const { event, code } = await exchange(vtUrl(server.url, shortLived), [JSON.stringify({ config: GOOD_CONFIG })]);
    assert.equal(event.error?.code, 401);
    assert.equal(code, 4401);
  });

  it('the API key itself in api_key of the config is accepted (spec 002 Part 2)', async () => {
    const { samples, sampleRateHz } = loadWav(librivoxRecordings()[1]?.path ?? '');
    const result = await streamAudio({ url: url.replace(/\?.*$/, ''), config: { ...GOOD_CONFIG, api_key: server.apiKey }, samples, sampleRateHz, realtime: false, idleCloseMs: 5000 });
    assert.ok(result.events.some((e) => e.kind === 'translate' && e.text.length > 0));
    assert.ok(!result.events.some((e) => e.kind === 'error'));
  });

  it('the token endpoint rejects a missing key (401) and an out-of-range expiration_ttl (400)', async () => {
    const none = await fetch(`${server.url}/v2/sdk/voice-translation/session/token`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: number } }).error.code, 401);
    const bad = await fetch(`${server.url}/v2/sdk/voice-translation/session/token?expiration_ttl=-5`, { headers: { authorization: `api-key ${server.apiKey}` } });
    assert.equal(bad.status, 400);
    const wrong = await fetch(`${server.url}/v2/sdk/voice-translation/session/token`, { headers: { authorization: 'api-key ip_live_00000000000000000000000000000000' } });
    assert.equal(wrong.status, 401);
  });

  it('more streams than the limit → error 429, close 4429', async () => {
    const small = await startTestServer({ maxStreams: 1 });
    try {
      const u = vtUrl(small.url, await fetchSessionKey(small.url, small.apiKey));
      const first = new WebSocket(u);
      await new Promise((r) => first.once('open', r));
      first.send(JSON.stringify({ config: GOOD_CONFIG }));
      await new Promise((r) => setTimeout(r, 300));
      const { event, code } = await exchange(u, [JSON.stringify({ config: GOOD_CONFIG })]);
      assert.equal(event.error?.code, 429);
      assert.equal(code, 4429);
      first.close();
    } finally {
      await small.close();
    }
  });

  it('the healthy session got its transcripts, translations and speech, and no error', async () => {
    const result = await healthy;
    assert.equal(result.events.filter((e) => e.kind === 'error').length, 0);
    const finals = result.events.filter((e) => e.kind === 'transcript' && e.final);
    assert.ok(finals.length > 0);
    assert.ok(result.events.some((e) => e.kind === 'translate' && e.text.length > 0));
    assert.ok(result.audio.length > 16000, 'less than a second of synthesized speech');
  });
});
