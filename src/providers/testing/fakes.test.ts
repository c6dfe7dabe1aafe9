import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLanguages } from '../registry.js';
import type { SttTranscript } from '../stt/types.js';
import { EnergyVad } from '../vad/energy.js';
import { createFakeEngines, EventRecorder, FakeMt, FakeStt, FakeTts, pcmBlocks, speechLikePcm, toneFrequencyHz } from './index.js';

const RATE = 16000;
const ms = (n: number): Int16Array => new Int16Array((RATE * n) / 1000).fill(1000);

async function collect(stream: AsyncIterable<SttTranscript>): Promise<SttTranscript[]> {
  const out: SttTranscript[] = [];
  for await (const t of stream) out.push(t);
  return out;
}

describe('FakeStt', () => {
  it('reveals one more word per interimEveryMs of audio, then the final on flush, in order', async () => {
    const stt = new FakeStt({ script: ['one two three', { text: 'four', confidence: 0.9 }], interimEveryMs: 100 });
    const stream = await stt.open({ language: 'en-US' });
    const events = collect(stream);
    stream.push(ms(150));
    stream.push(ms(100));
    const first = await stream.flush();
    stream.push(ms(100));
    const second = await stream.flush();
    const third = await stream.flush(); // no audio: nothing heard
    await stream.close();
    assert.deepEqual((await events).map((t) => `${t.type}:${t.text}:${t.audioMs}`), [
      'interim:one:150', 'interim:one two:250', 'final:one two three:250', 'interim:four:100', 'final:four:100', 'final::0',
    ]);
    assert.deepEqual([first.confidence, second.confidence, third.confidence], [undefined, 0.9, undefined]);
    assert.equal(stt.stats().audioMs, 350);
  });

  it('injects failures: open throws, a chosen flush rejects, an unknown language is refused', async () => {
    await assert.rejects(new FakeStt({ openError: new Error('no model') }).open({ language: 'en' }), /no model/);
    await assert.rejects(new FakeStt().open({ language: 'ja' }), /does not recognize ja/);
    const stream = await new FakeStt({ script: ['a', 'b'], flushError: (i) => (i === 0 ? new Error('boom') : undefined) }).open({ language: 'en' });
    stream.push(ms(10));
    await assert.rejects(stream.flush(), /boom/);
    stream.push(ms(10));
    assert.equal((await stream.flush()).text, 'b');
  });
});

describe('FakeMt', () => {
  it('prefixes the target, keeps slots in place, records calls and refuses unknown pairs', async () => {
    const mt = new FakeMt({ translateText: (t) => t.toUpperCase() });
    assert.deepEqual(await mt.translate(['the ', { slot: 0 }, ' is due'], { source: 'en', target: 'es' }), ['[es] ', 'THE ', { slot: 0 }, ' IS DUE']);
    await assert.rejects(mt.translate(['x'], { source: 'en', target: 'ja' }), /no en-ja pair/);
    assert.equal(mt.callsTo('es'), 1);
    assert.equal(mt.calls.length, 2);
    assert.deepEqual(await new FakeMt({ dropSlots: true }).translate([{ slot: 0 }, ' x'], { source: 'en', target: 'fr' }), ['[fr] ', ' x']);
  });
});

describe('FakeTts', () => {
  it("yields a tone of the voice's pitch, msPerChar per character, at its own rate", async () => {
    const tts = new FakeTts({ msPerChar: 10 });
    const blocks: Int16Array[] = [];
    for await (const b of tts.synthesize('x'.repeat(50), { language: 'es-ES', voice: 'male' })) blocks.push(b);
    const all = Int16Array.from(blocks.flatMap((b) => [...b]));
    assert.equal(all.length, 22050 / 2);
    assert.equal(blocks.length, 5);
    assert.ok(Math.abs(toneFrequencyHz(all, 22050) - 220) < 1);
    await assert.rejects(async () => {
      for await (const b of tts.synthesize('hi', { language: 'ja', voice: 'female' })) void b;
    }, /no voice for ja/);
  });
});

describe('speechLikePcm', () => {
  it('is endpointed by the real energy VAD into one utterance per burst', () => {
    const pcm = speechLikePcm([{ silenceMs: 300 }, { speechMs: 500 }, { silenceMs: 500 }, { speechMs: 400 }, { silenceMs: 500 }], { sampleRateHz: RATE });
    const vad = new EnergyVad({ sampleRateHz: RATE, endpointSilenceMs: 300 });
    const ends = pcmBlocks(pcm, 20, RATE).flatMap((b) => vad.push(b)).filter((e) => e.type === 'speech-end');
    assert.deepEqual(ends.map((e) => e.type === 'speech-end' && [Math.round(e.atMs), e.reason]), [[800, 'pause'], [1700, 'pause']]);
  });
});

describe('createFakeEngines', () => {
  it('offers what its fakes can do to the language checks', () => {
    const engines = createFakeEngines({ tts: { capabilities: { languages: ['en', 'es'] } } });
    assert.equal(checkLanguages(engines, 'en-US', 'es-ES', 'female').ok, true);
    const fr = checkLanguages(engines, 'en-US', 'fr', 'female');
    assert.equal(fr.ok, false);
  });
});

describe('EventRecorder', () => {
  it('resolves once the condition holds and rejects with the description after the timeout', async () => {
    const r = new EventRecorder<number>();
    const waiting = r.waitForCount((n) => n > 1, 2);
    r.push(1);
    r.push(2);
    r.push(3);
    assert.deepEqual(await waiting, [1, 2, 3]);
    await assert.rejects(r.waitFor((e) => e.length > 5, 'six events', 10), /six events/);
  });
});
