/**
 * Configured engines end to end (docs/engines.md): a server whose routing configuration adds an
 * OpenAI-compatible recognizer (a stand-in on port 0, test/fakes/openai-server.ts) offers Spanish
 * and German, streams Spanish speech (espeak-ng) through /vt to it, translates with Apertium and
 * counts the engine's requests in /metrics; a conversation room runs on remote engines only
 * (recognizer, LibreTranslate, speech server: all stand-ins), English and Spanish both ways.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { resample } from '../src/audio/resampler.js';
import { readWav } from '../src/audio/wav.js';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { conversationLanguages } from '../src/gateway/conversation-languages.js';
import type { EngineRequestRecord } from '../src/providers/engine-module.js';
import { closeEngines, createEngines, type RoutedEngines } from '../src/providers/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { SPEECH_PATH, TRANSCRIPTIONS_PATH, startFakeOpenAi, type FakeOpenAiServer } from './fakes/openai-server.js';
import { startFakeLibreTranslate, type FakeLibreTranslateServer } from './fakes/libretranslate-server.js';
import { Peer } from './room-peer.js';

const API_KEY = 'sk-e2e-test';
const SPANISH = 'buenos días señora';
const ENGLISH = 'good morning madam';

/** espeak-ng speaking `text` with `voice`, as mono s16 at 16 kHz (the stream rate). */
function speech(voice: string, text: string): Int16Array {
  const { samples, sampleRateHz } = readWav(execFileSync('espeak-ng', ['-v', voice, '--stdout', text]));
  return resample(samples, sampleRateHz, 16000);
}

/** The recognizer "hears" the language the engine asked for: what each speaker says in this file. */
const transcriptFor = (_audio: unknown, fields: Record<string, string[]>): string => (fields.language?.[0] === 'es' ? SPANISH : ENGLISH);

async function start(engines: RoutedEngines): Promise<RunningServer> {
  return startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' }), { engines });
}

describe('an OpenAI-compatible recognizer next to the offline engines', () => {
  let openai: FakeOpenAiServer;
  let engines: RoutedEngines;
  let server: RunningServer;
  const records: EngineRequestRecord[] = [];
  before(async () => {
    openai = await startFakeOpenAi({ apiKey: API_KEY, transcriptFor });
    engines = await createEngines({
      engines: [
        { id: 'pocketsphinx', kind: 'stt', name: 'pocketsphinx' },
        { id: 'whisper', kind: 'stt', name: 'openai', settings: { baseUrl: openai.baseUrl, apiKey: { env: 'E2E_OPENAI_KEY' }, languages: ['es', 'de'] } },
      ],
    }, {
      env: { E2E_OPENAI_KEY: API_KEY }, prewarm: false,
      onRequest: (r) => {
        records.push(r);
        server?.ctx.metrics.engineRequest(r);
      },
    });
    server = await start(engines);
  });
  after(async () => {
    await server?.close();
    if (engines) await closeEngines(engines);
    await openai?.close();
  });

  it('offers Spanish and German speech once the recognizer that knows them is configured', async () => {
    const recognized = conversationLanguages(engines).filter((l) => l.recognized).map((l) => l.code).sort();
    assert.deepEqual(recognized, ['de', 'en-US', 'es']);
    const res = await server.app.inject({ method: 'GET', url: '/api/v1/languages' });
    const codes = res.json<{ supported_languages: Array<[string, string]> }>().supported_languages.map(([c]) => c);
    assert.ok(codes.includes('de'), codes.join(','));
  });

  it('streams Spanish speech through /vt (es-ES → en-US): the final is the recognizer\'s, the translation Apertium\'s, and /metrics counts the requests', async () => {
    const key = await fetchSessionKey(server.url, server.firstOwnerKey ?? '');
    const result = await streamAudio({
      url: vtUrl(server.url, key), config: { source_language: 'es-ES', target_language: 'en-US', voice: 'female' },
      samples: speech('es', SPANISH), sampleRateHz: 16000, realtime: false,
    });
    const recorded = [...records]; // before this test's own translation below
    const finals = result.events.filter((e) => e.kind === 'transcript' && e.final);
    const translations = result.events.filter((e) => e.kind === 'translate');
    assert.ok(!result.events.some((e) => e.kind === 'error'), JSON.stringify(result.events.filter((e) => e.kind === 'error')));
    assert.ok(finals.length >= 1, 'no final transcript');
    const asked = openai.requestsTo(TRANSCRIPTIONS_PATH);
    assert.equal(asked.length, finals.length, 'one transcription request per utterance');
    for (const f of finals) assert.equal('text' in f && f.text, SPANISH);
    const expected = (await engines.mt.translate([SPANISH], { source: 'es', target: 'en' })).join('');
    assert.deepEqual(translations.map((t) => 'text' in t && t.text), finals.map(() => expected));
    assert.ok(result.audio.length > 0, 'no synthesized speech');

    const request = asked[0];
    assert.equal(request?.headers.authorization, `Bearer ${API_KEY}`, 'the key came from the environment reference');
    assert.deepEqual(request?.fields?.language, ['es']);
    assert.deepEqual(request?.fields?.model, ['whisper-1']);
    const wav = readWav(request?.files?.file?.bytes ?? Buffer.alloc(0));
    assert.equal(wav.sampleRateHz, 16000);
    const seconds = wav.samples.length / 16000;
    assert.ok(seconds > 0.5 && seconds < 4, `${seconds} s of audio sent`);

    const reported = (engine: string) => recorded.filter((r) => r.engine === engine).map((r) => `${r.kind} ${r.outcome}`);
    assert.deepEqual(reported('whisper'), asked.map(() => 'stt ok'));
    assert.deepEqual(reported('apertium'), translations.map(() => 'mt ok'), 'the offline engines report too');
    assert.deepEqual(reported('espeak-ng'), translations.map(() => 'tts ok'));
    assert.deepEqual(reported('pocketsphinx'), [], 'no English stream: pocketsphinx did nothing');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^tolk_engine_requests_total\\{engine="whisper",outcome="ok"\\} ${asked.length}$`, 'm'));
    assert.match(metrics, new RegExp(`^tolk_engine_request_duration_ms_count\\{engine="whisper"\\} ${asked.length}$`, 'm'));
    // The stream's translations and this test's own one above.
    assert.match(metrics, new RegExp(`^tolk_engine_requests_total\\{engine="apertium",outcome="ok"\\} ${translations.length + 1}$`, 'm'));
  });
  it('English goes to pocketsphinx, which reports each utterance\'s final like any engine', async () => {
    const before = records.length;
    const stream = await engines.stt.open({ language: 'en-US' });
    stream.push(speech('en-us', 'hello world'));
    const final = await stream.flush();
    await stream.close();
    assert.ok(final.text.length > 0, 'pocketsphinx heard nothing');
    assert.deepEqual(records.slice(before).map((r) => `${r.engine} ${r.kind} ${r.outcome}`), ['pocketsphinx stt ok']);
  });
});

describe('a conversation room on remote engines only', () => {
  let openai: FakeOpenAiServer;
  let libre: FakeLibreTranslateServer;
  let engines: RoutedEngines;
  let server: RunningServer;
  before(async () => {
    openai = await startFakeOpenAi({ apiKey: API_KEY, transcriptFor });
    libre = await startFakeLibreTranslate({
      dictionary: { 'en-es': { good: 'buenos', morning: 'días', madam: 'señora' }, 'es-en': { buenos: 'good', 'días': 'morning', 'señora': 'madam' } },
    });
    engines = await createEngines({
      engines: [
        { id: 'whisper', kind: 'stt', name: 'openai', settings: { baseUrl: openai.baseUrl, apiKey: API_KEY, languages: ['en', 'es'] } },
        { id: 'libre', kind: 'mt', name: 'libretranslate', settings: { baseUrl: libre.origin, languages: ['en', 'es'] } },
        { id: 'kokoro', kind: 'tts', name: 'openai', settings: { baseUrl: openai.baseUrl, apiKey: API_KEY, voices: { en: { male: 'onyx', female: 'nova' }, es: { male: 'alloy', female: 'shimmer' } } } },
      ],
    }, { prewarm: false });
    server = await start(engines);
  });
  after(async () => {
    await server?.close();
    if (engines) await closeEngines(engines);
    await openai?.close();
    await libre?.close();
  });

  it('English speech reaches the Spanish listener and Spanish speech the English one, translated and spoken', async () => {
    assert.deepEqual(engines.instances.map((e) => e.id), ['whisper', 'libre', 'kokoro'], 'no offline engine was started');
    const res = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    const { conversation_id: id } = (await res.json()) as { conversation_id: string };
    const a = await Peer.join(server.url, id, 'en-US');
    const b = await Peer.join(server.url, id, 'es');

    await a.speak(speech('en-us', ENGLISH));
    await b.until('B gets A\'s final', () => b.finals().length >= 1);
    assert.deepEqual(b.finals().map((f) => [f.original, f.translation]), [[ENGLISH, SPANISH]]);
    await b.until('speech for B', () => b.audioBytes > 0);

    await b.speak(speech('es', SPANISH));
    await a.until('A gets B\'s final', () => a.finals().some((f) => f.is_mine === false));
    assert.deepEqual(a.finals().filter((f) => f.is_mine === false).map((f) => [f.original, f.translation]), [[SPANISH, ENGLISH]]);
    await a.until('speech for A', () => a.audioBytes > 0);
    assert.ok(![...a.json, ...b.json].some((m) => 'error' in m));

    assert.deepEqual(openai.requestsTo(TRANSCRIPTIONS_PATH).map((r) => r.fields?.language?.[0]), ['en', 'es']);
    const translated = libre.requestsTo('/translate').map((r) => [r.json && (r.json as { source?: string }).source, (r.json as { target?: string } | undefined)?.target]);
    assert.deepEqual(translated, [['en', 'es'], ['es', 'en']]);
    const spoken = openai.requestsTo(SPEECH_PATH).map((r) => r.json as { input: string; voice: string });
    assert.deepEqual(spoken.map((s) => s.input), [SPANISH, ENGLISH]);
    assert.ok(['alloy', 'shimmer'].includes(spoken[0]?.voice ?? '') && ['onyx', 'nova'].includes(spoken[1]?.voice ?? ''), JSON.stringify(spoken));
    await a.close();
    await b.close();
  });
});
