import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { after, before, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl, type StreamAudioResult } from '../src/client/vt-client.js';
import { closeTestEngines, startTestServer, testEngines } from './helpers.js';
import { continuousLibrivox } from './continuous-speech.js';
import { startCallsServer, StreamClient, type CallsTestServer } from './calls-support.js';
import { pcmBlocks, speechLikePcm } from '../src/providers/testing/index.js';

/**
 * Simultaneous mode (docs/stream-protocol.md "Simultaneous mode") through `/vt` on the offline
 * engines, at real-time pace, on 30 s of continuous speech (test/continuous-speech.ts: no pause
 * the VAD would report, so the first utterance runs 20 s until the endpointer's hard limit).
 */

type Server = Awaited<ReturnType<typeof startTestServer>>;
const RATE_HZ = 16000;
const SPEECH = continuousLibrivox(30_000);
const SPEECH_MS = (SPEECH.length * 1000) / RATE_HZ;

async function stream(server: Server, features: Record<string, unknown> | undefined): Promise<StreamAudioResult> {
  const sessionKey = await fetchSessionKey(server.url, server.apiKey, 300);
  return streamAudio({
    url: vtUrl(server.url, sessionKey),
    config: {
      audio: { format: 'pcm_s16le', sample_rate: RATE_HZ, channels: 1 },
      source_language: 'en-US', target_language: 'es-ES', voice: 'female',
      transcript: { interim: true, final: true, translate: true },
      ...(features ? { features } : {}),
    },
    samples: SPEECH, sampleRateHz: RATE_HZ, idleCloseMs: 3000,
  });
}

describe('simultaneous mode over /vt', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer({ vad: 'energy' });
  });
  after(async () => {
    await server?.close();
    await closeTestEngines();
  });

  it('speaks committed segments before the utterance ends; they never go back on what was sent', async () => {
    const result = await stream(server, { simultaneous: true });
    const events = result.events;
    const error = events.find((e) => e.kind === 'error');
    assert.equal(error, undefined, JSON.stringify(error));
    const firstFinal = events.findIndex((e) => e.kind === 'transcript' && e.final);
    const firstAudio = events.findIndex((e) => e.kind === 'audio');
    assert.ok(firstFinal > 0 && firstAudio >= 0 && firstAudio < firstFinal, 'translated speech comes before the first utterance\'s final');
    const firstAudioAtMs = events[firstAudio]?.atMs ?? Infinity;
    assert.ok(firstAudioAtMs < result.firstSendAtMs + SPEECH_MS, 'translated speech arrives before the last audio chunk is sent');
    const byUtterance = new Map<string, string[]>();
    for (const e of events) {
      if (e.kind !== 'translate') continue;
      const texts = byUtterance.get(e.utteranceId) ?? [];
      texts.push(`${e.final ? 'final' : 'interim'}: ${e.text}`);
      byUtterance.set(e.utteranceId, texts);
    }
    const interims = [...byUtterance.values()].flatMap((texts) => texts.filter((t) => t.startsWith('interim: ')));
    assert.ok(interims.length >= 2, `interim translations were sent: ${JSON.stringify([...byUtterance.values()])}`);
    for (const texts of byUtterance.values()) {
      const shown = texts.filter((t) => t.startsWith('interim: ')).map((t) => t.slice('interim: '.length));
      // Each interim translation extends the one before: what was spoken stays.
      for (let i = 1; i < shown.length; i++) assert.ok(shown[i]?.startsWith(shown[i - 1] ?? ''), `${shown[i - 1]} → ${shown[i]}`);
      assert.ok(texts.at(-1)?.startsWith('final: '), `the utterance ends with its final translation: ${texts.join(' | ')}`);
    }
    const finals = events.filter((e) => e.kind === 'transcript' && e.final && e.text);
    assert.equal(finals.length, byUtterance.size, 'every final transcript has its utterance\'s final translation');
  });

  it('without the feature no translation is sent before its final, and the speech waits for the endpoint', async () => {
    const events = (await stream(server, undefined)).events;
    assert.equal(events.find((e) => e.kind === 'error'), undefined);
    assert.deepEqual(events.filter((e) => e.kind === 'translate' && !e.final), []);
    const firstFinal = events.findIndex((e) => e.kind === 'transcript' && e.final);
    const firstAudio = events.findIndex((e) => e.kind === 'audio');
    assert.ok(firstFinal >= 0 && firstAudio > firstFinal, 'consecutive mode speaks after the final');
  });

  it('espeak-ng speaks a segment faster when asked (TtsRequest.speed): fewer samples for the same text', async () => {
    const engines = await testEngines();
    const samples = async (speed: number | undefined): Promise<number> => {
      let n = 0;
      for await (const block of engines.tts.synthesize('el hombre que vino ayer dijo que estaba cansado', { language: 'es-ES', voice: 'female', speed })) n += block.length;
      return n;
    };
    const [normal, faster] = [await samples(undefined), await samples(1.5)];
    assert.ok(faster < normal * 0.8, `${faster} samples at 1.5× against ${normal}`);
  });

  it('features.simultaneous must be a boolean: a 400 error event', async () => {
    const events = (await stream(server, { simultaneous: 'yes' })).events;
    const error = events.find((e) => e.kind === 'error');
    assert.ok(error?.kind === 'error' && error.code === 400, JSON.stringify(events.slice(0, 3)));
    assert.equal(error.description, 'Invalid features.simultaneous: use true or false');
  });
});

describe('simultaneous mode in calls (transcription.simultaneous, fake engines)', () => {
  const SENTENCE = 'the man who came here yesterday said he was tired and went home';
  let calls: CallsTestServer;
  before(async () => {
    calls = await startCallsServer({ fakes: { stt: { script: (options) => (options.language.startsWith('en') ? [SENTENCE] : []) } } });
  });
  after(async () => calls?.close());

  /** The agent's messages about the customer's speech, one line each, after the customer speaks one 3 s utterance. */
  async function agentHears(transcription: object | undefined): Promise<string[]> {
    const res = await calls.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'en', target_language: 'de', ...(transcription ? { transcription } : {}) });
    assert.equal(res.status, 201, res.text);
    const s = res.json;
    const customer = await StreamClient.connect(`${s.stream.url}?token=${s.stream.token}`);
    const agent = await StreamClient.connect(`${s.stream.url}?speaker=agent`, { authorization: `Bearer ${s.stream.token}` });
    await customer.waitFor((m) => m.type === 'session.ready', 'ready');
    await agent.waitFor((m) => m.type === 'session.ready', 'agent ready');
    const speech = speechLikePcm([{ silenceMs: 200 }, { speechMs: 3000 }, { silenceMs: 900 }], { sampleRateHz: 16000, frequencyHz: 300 });
    for (const block of pcmBlocks(speech, 100, 16000)) {
      customer.send({ type: 'audio', data: Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('base64'), encoding: 'pcm_16', sample_rate: 16000, channels: 1 });
    }
    await agent.waitFor((m) => m.type === 'translation' && m.text === `[de] ${SENTENCE}`, 'the final translation');
    await agent.waitFor((m) => m.type === 'audio' && agent.messages.indexOf(m) > agent.messages.findIndex((x) => x.type === 'translation' && x.text === `[de] ${SENTENCE}`), 'the rest\'s speech');
    customer.close();
    agent.close();
    const lines: string[] = [];
    for (const m of agent.messages) {
      const line = m.type === 'translation' ? `translation: ${m.text}` : m.type === 'transcript' && m.is_final ? `final: ${m.text}` : m.type === 'audio' ? 'audio' : undefined;
      if (line && (line !== 'audio' || lines.at(-1) !== 'audio')) lines.push(line);
    }
    return lines;
  }

  it('the agent hears a committed segment before the customer\'s final; the translation message is updated by id', async () => {
    const lines = await agentHears({ simultaneous: true });
    assert.deepEqual(lines.slice(0, 2), ['translation: [de] the man who came here yesterday said he', 'audio'], lines.join('\n'));
    // The audio was sent faster than real time: the final may come while the second segment is translated.
    assert.deepEqual(lines.filter((l) => l !== 'audio'), [
      'translation: [de] the man who came here yesterday said he',
      ...[`final: ${SENTENCE}`, 'translation: [de] the man who came here yesterday said he [de] was tired and went'].sort((a, b) => lines.indexOf(a) - lines.indexOf(b)),
      `translation: [de] ${SENTENCE}`,
    ]);
  });

  /** What `/api/v1/ws/single` sends for one 3 s utterance: JSON messages as lines, binary frames as `audio`. */
  async function singleDevice(config: object): Promise<string[]> {
    const ws = new WebSocket(`${calls.url.replace(/^http/, 'ws')}/api/v1/ws/single`);
    const lines: string[] = [];
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (lines.at(-1) !== 'audio') lines.push('audio');
        if (lines.some((l) => l.startsWith('final:'))) finished();
        return;
      }
      const m = JSON.parse(data.toString('utf8')) as { is_final?: boolean; original?: string; translation?: string; error?: string };
      if (m.error) {
        lines.push(`error: ${m.error}`);
        finished();
      }
      else if (m.is_final) lines.push(`final: ${m.original} → ${m.translation}`);
      else if (m.translation) lines.push(`interim: ${m.original} → ${m.translation}`);
    });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'config', language: 'en-US', translate_language: 'de', speech: true, ...config }));
    const speech = speechLikePcm([{ silenceMs: 200 }, { speechMs: 3000 }, { silenceMs: 900 }], { sampleRateHz: 16000, frequencyHz: 300 });
    for (const block of pcmBlocks(speech, 100, 16000)) ws.send(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
    await done;
    ws.close();
    return [...lines];
  }

  it('the single-device socket (the live page\'s) sends interims with the translation spoken so far, only when asked', async () => {
    const simultaneous = await singleDevice({ simultaneous: true });
    // Where the segments fall depends on how the interims line up with the VAD's frames here; what
    // is fixed: spoken before the final, each interim's source a prefix of the final transcript.
    assert.match(simultaneous[0] ?? '', /^interim: the man who .* → \[de\] the man who /, simultaneous.join('\n'));
    assert.equal(simultaneous[1], 'audio');
    assert.deepEqual(simultaneous.filter((l) => l.startsWith('final:')), [`final: ${SENTENCE} → [de] ${SENTENCE}`]);
    for (const line of simultaneous.filter((l) => l.startsWith('interim:'))) assert.ok(SENTENCE.startsWith(line.slice('interim: '.length).split(' → ')[0] ?? '?'), line);
    const consecutive = await singleDevice({});
    assert.deepEqual(consecutive, [`final: ${SENTENCE} → [de] ${SENTENCE}`, 'audio']);
    assert.deepEqual(await singleDevice({ simultaneous: 1 }), ['error: Invalid config: simultaneous: simultaneous must be true or false.']);
  });

  it('without it, speech only after the final, as before; a non-boolean is a validation_error', async () => {
    assert.deepEqual(await agentHears(undefined), [`final: ${SENTENCE}`, `translation: [de] ${SENTENCE}`, 'audio']);
    const res = await calls.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'en', target_language: 'de', transcription: { simultaneous: 'yes' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.param, 'transcription.simultaneous');
  });
});
