import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TranslationPipeline, type PipelineEvent } from '../../pipeline/translation-pipeline.js';
import { createEngines } from '../index.js';
import { ENGINE_MODULES } from '../modules.js';
import { checkLanguages, supportedPairs } from '../registry.js';
import { AsyncQueue } from '../../common/async-queue.js';
import type { SttProvider, SttStream, SttTranscript } from '../stt/types.js';
import { EventRecorder, FAKE_ENGINE_MODULES, FakeMt, FakeStt, FakeTts, pcmBlocks, speechLikePcm } from '../testing/index.js';
import { RoutedMt } from './routed-mt.js';
import { RoutedStt } from './routed-stt.js';
import { RoutedTts } from './routed-tts.js';

const modules = [...ENGINE_MODULES, ...FAKE_ENGINE_MODULES];
const second = (ms: number, rateHz = 16000): Int16Array => Int16Array.from({ length: (ms * rateHz) / 1000 }, (_, i) => (i % 50) * 100);

async function collect(stream: AsyncIterable<SttTranscript>): Promise<SttTranscript[]> {
  const out: SttTranscript[] = [];
  for await (const t of stream) out.push(t);
  return out;
}

describe('routed STT', () => {
  it('offers the union of the languages its routes can serve, and routes a language to its engines', async () => {
    const a = new FakeStt({ name: 'a', capabilities: { languages: ['en'] }, script: ['hello there'] });
    const b = new FakeStt({ name: 'b', capabilities: { languages: ['es', 'de', 'fr'] }, script: ['hola'] });
    const stt = new RoutedStt([{ id: 'a', name: 'fake-stt', provider: a }, { id: 'b', name: 'fake-stt', provider: b }], { fr: ['a'] });
    assert.deepEqual([...stt.capabilities.languages].sort(), ['de', 'en', 'es'], 'fr is routed to an engine that does not know it');
    assert.equal(stt.name, 'auto');
    const s = await stt.open({ language: 'es-ES' });
    s.push(second(500));
    assert.equal((await s.flush()).text, 'hola');
    assert.equal(a.streams.length, 0);
    await assert.rejects(stt.open({ language: 'fr-FR' }), /no engine can recognize fr-FR/);
  });

  it('a failed utterance is recognized by the next engine from its kept audio (resampled to its rate); the next utterance goes back to the first', async () => {
    const a = new FakeStt({ name: 'a', capabilities: { languages: ['en'] }, script: ['first from a', 'second from a'], flushError: (i) => (i === 0 ? new Error('a timed out') : undefined) });
    const b = new FakeStt({ name: 'b', capabilities: { languages: ['en'], sampleRateHz: 8000 }, script: ['first from b'] });
    const stt = new RoutedStt([{ id: 'a', name: 'fake-stt', provider: a }, { id: 'b', name: 'fake-stt', provider: b }], {});
    const s = await stt.open({ language: 'en-US' });
    const events = collect(s);
    s.push(second(600));
    await new Promise<void>((resolve) => setImmediate(resolve)); // the serving engine's interims are out
    const first = s.flush();
    s.push(second(400));
    const next = s.flush();
    assert.equal((await first).text, 'first from b');
    assert.equal((await next).text, 'second from a');
    await s.close();
    const seen = await events;
    assert.deepEqual(seen.filter((t) => t.type === 'final').map((t) => t.text), ['first from b', 'second from a']);
    assert.ok(seen.filter((t) => t.type === 'interim').length > 0, 'interims of the serving engine pass');
    assert.equal(b.streams.length, 1);
    assert.equal(b.streams[0]?.finals[0]?.audioMs, 600, 'b heard the whole utterance at its own rate');
    assert.equal(b.stats().audioMs, 600);
    assert.equal(stt.stats().audioMs, 1000 + 600, 'a heard both utterances, b the first');
  });

  it('an utterance that ends while the one before it is finishing still has its interim, after that final and before its own', async () => {
    // A serving stream whose finals the test releases: utterance 2 is flushed before utterance 1's final is out.
    const events = new AsyncQueue<SttTranscript>();
    const finals: Array<(t: SttTranscript) => void> = [];
    const serving: SttStream = {
      pendingMs: 0,
      push: () => undefined,
      flush: () => new Promise<SttTranscript>((resolve) => finals.push((t) => {
        events.push(t);
        resolve(t);
      })),
      close: async () => events.end(),
      [Symbol.asyncIterator]: () => events[Symbol.asyncIterator](),
    };
    const provider = { name: 'held', capabilities: { languages: ['en'], interimResults: true, vocabulary: false, sampleRateHz: 16000 }, open: async () => serving, close: async () => undefined } satisfies SttProvider;
    const stt = new RoutedStt([{ id: 'held', name: 'held', provider }], {});
    const s = await stt.open({ language: 'en-US' });
    const seen = collect(s);
    const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    s.push(second(300));
    events.push({ type: 'interim', text: 'one', audioMs: 300 });
    await turn();
    const first = s.flush();
    s.push(second(300));
    const next = s.flush();
    finals[0]?.({ type: 'final', text: 'one two', audioMs: 300 });
    await first;
    events.push({ type: 'interim', text: 'three', audioMs: 300 }); // decoded after final 1, as the recognizer's chain does
    await turn();
    finals[1]?.({ type: 'final', text: 'three four', audioMs: 300 });
    await next;
    await s.close();
    assert.deepEqual((await seen).map((t) => `${t.type}:${t.text}`), ['interim:one', 'final:one two', 'interim:three', 'final:three four']);
  });

  it('rejects the flush, naming each engine, only when no engine can recognize the utterance', async () => {
    const fail = (id: string) => new FakeStt({ name: id, capabilities: { languages: ['en'] }, script: ['x'], flushError: () => new Error(`${id} down`) });
    const stt = new RoutedStt([{ id: 'a', name: 'fake-stt', provider: fail('a') }, { id: 'b', name: 'fake-stt', provider: fail('b') }], {});
    const s = await stt.open({ language: 'en' });
    s.push(second(300));
    await assert.rejects(s.flush(), { message: 'no engine could recognize the utterance (a: a down; b: b down)' });
    await s.close();
  });

  it('an engine that cannot open is skipped; a preferred engine (spec 002 stt.provider) serves first', async () => {
    const a = new FakeStt({ name: 'a', capabilities: { languages: ['en'] }, openError: new Error('a is down'), script: ['from a'] });
    const b = new FakeStt({ name: 'b', capabilities: { languages: ['en'] }, script: ['from b'] });
    const c = new FakeStt({ name: 'c', capabilities: { languages: ['en'] }, script: ['from c'] });
    const stt = new RoutedStt([{ id: 'a', name: 'fake-stt', provider: a }, { id: 'b', name: 'fake-stt', provider: b }, { id: 'c', name: 'other', provider: c }], {});
    const s = await stt.open({ language: 'en' });
    s.push(second(300));
    assert.equal((await s.flush()).text, 'from b');
    const preferred = await stt.open({ language: 'en', engines: ['other'] });
    preferred.push(second(300));
    assert.equal((await preferred.flush()).text, 'from c');
    assert.equal(stt.runs('other') && stt.runs('b') && !stt.runs('soniox'), true);
  });
});

describe('routed MT and TTS', () => {
  it('MT: pairs are the union; a pair routes to its list; a failing engine is replaced by the next for the same text', async () => {
    const down = new FakeMt({ name: 'down', error: () => new Error('503') });
    const up = new FakeMt({ name: 'up', pairs: [{ source: 'en', target: 'es' }, { source: 'en', target: 'ca' }], translateText: (t) => `up:${t}` });
    const mt = new RoutedMt([{ id: 'down', name: 'fake-mt', provider: down }, { id: 'up', name: 'fake-mt', provider: up }], { 'en-ca': ['down'] });
    assert.ok(mt.capabilities.pairs.some((p) => p.target === 'es') && mt.capabilities.pairs.some((p) => p.target === 'fr'));
    assert.ok(!mt.capabilities.pairs.some((p) => p.target === 'ca'), 'en-ca is routed to an engine without the pair');
    assert.deepEqual(await mt.translate(['hello'], { source: 'en', target: 'es' }), ['[es] ', 'up:hello']);
    assert.deepEqual(down.calls.map((c) => c.input), [['hello']]);
    await assert.rejects(mt.translate(['hi'], { source: 'en', target: 'fr' }), { message: 'no engine could translate en-fr (down: 503)' });
    await mt.prewarm();
    assert.ok(down.prewarmed.length > 0 && up.prewarmed.length === 0, 'each engine prewarms the pairs it serves first');
  });

  it('TTS: a failing engine before audio is replaced, and audio comes out at the first engine\'s rate', async () => {
    const down = new FakeTts({ name: 'down', error: () => new Error('503') });
    const up = new FakeTts({ name: 'up', capabilities: { sampleRateHz: 16000 } });
    const tts = new RoutedTts([{ id: 'down', name: 'fake-tts', provider: down }, { id: 'up', name: 'fake-tts', provider: up }], {});
    assert.equal(tts.capabilities.sampleRateHz, 22050);
    let samples = 0;
    for await (const block of tts.synthesize('hola', { language: 'es-ES', voice: 'male' })) samples += block.length;
    assert.equal(samples, (up.durationMs('hola') * 22050) / 1000, `${samples} samples at 22050 Hz`);
    assert.equal(down.calls.length, 1);
    const only = new RoutedTts([{ id: 'down', name: 'fake-tts', provider: down }], {});
    await assert.rejects(async () => {
      for await (const _ of only.synthesize('x', { language: 'en', voice: 'male' })) void _;
    }, { message: 'no engine could speak en (down: 503)' });
  });
});

describe('engines from a configuration', () => {
  it('offers Spanish and German speech once an STT that knows them is configured (checkLanguages, pairs)', async () => {
    const engines = await createEngines({
      engines: [
        { id: 'remote', kind: 'stt', name: 'fake-stt', settings: { languages: ['es', 'de'] } },
        { id: 'local', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'] } },
        { id: 'mt', kind: 'mt', name: 'fake-mt' },
        { id: 'tts', kind: 'tts', name: 'fake-tts' },
      ],
    }, { modules, prewarm: false });
    assert.deepEqual([...engines.stt.capabilities.languages].sort(), ['de', 'en', 'es']);
    assert.ok(checkLanguages(engines, 'es-ES', 'en-US', 'female').ok);
    assert.ok(checkLanguages(engines, 'de-DE', 'en-US', 'male').ok);
    assert.equal(checkLanguages(engines, 'fr-FR', 'en-US', 'male').ok, false);
    assert.ok(supportedPairs(engines).some((p) => p.source === 'es' && p.target === 'en'));
    assert.deepEqual(engines.instances.map((i) => i.id), ['remote', 'local', 'mt', 'tts']);
  });

  it('a pipeline on routed engines: the client sees the utterance served by the fallback, and an error only when none can', async () => {
    const engines = await createEngines({
      engines: [
        { id: 'flaky', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['lost', 'one two'], failUtterances: [0, 1] } },
        { id: 'backup', kind: 'stt', name: 'fake-stt', settings: { languages: ['en'], script: ['hello world'], failUtterances: [1] } },
        { id: 'mt-down', kind: 'mt', name: 'fake-mt', settings: { failAll: true } },
        { id: 'mt', kind: 'mt', name: 'fake-mt' },
        { id: 'tts-down', kind: 'tts', name: 'fake-tts', settings: { failAll: true } },
        { id: 'tts', kind: 'tts', name: 'fake-tts' },
      ],
    }, { modules, prewarm: false });
    const recorder = new EventRecorder<PipelineEvent>();
    const pipeline = new TranslationPipeline(engines, {
      sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', sampleRateHz: 16000, vocabulary: [], dictionary: [],
      interim: false, final: true, translate: true, endpointSilenceMs: 300, maxUtteranceMs: 10_000,
    }, recorder.push);
    await pipeline.start();
    const pcm = speechLikePcm([{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 600 }], { sampleRateHz: 16000 });
    for (const block of pcmBlocks(pcm, 20, 16000)) pipeline.push(block);
    const events = await recorder.waitFor((e) => e.some((x) => x.type === 'utterance-end' || x.type === 'error'), 'the first utterance');
    const texts = events.filter((e) => e.type === 'transcript' || e.type === 'translation').map((e) => `${e.type}: ${'text' in e ? e.text : ''}`);
    assert.deepEqual(texts, ['transcript: hello world', 'translation: [es] hello world']);
    assert.ok(events.some((e) => e.type === 'audio'));
    for (const block of pcmBlocks(pcm, 20, 16000)) pipeline.push(block);
    const after = await recorder.waitFor((e) => e.some((x) => x.type === 'error'), 'the error');
    assert.equal(after.filter((e) => e.type === 'error').length, 1, 'both engines failed the second utterance');
    await pipeline.close(0);
  });
});
