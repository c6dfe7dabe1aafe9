import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { concatSamples, rmsDbfs } from '../../audio/pcm.js';
import { espeakSpeech } from '../testing/espeak-speech.js';
import { NoiseSuppressor, stopNoiseSuppression } from './noise-suppression.js';
import { SpeechDetector } from './speech-detector.js';

const RATE = 16000;
function whiteNoise(samples: number, amplitude: number): Int16Array {
  let seed = 99;
  return Int16Array.from({ length: samples }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return Math.round(((seed / 0x1_0000_0000) * 2 - 1) * amplitude);
  });
}
async function through(s: NoiseSuppressor, audio: Int16Array, block: number): Promise<Int16Array> {
  const out: Int16Array[] = [];
  for (let i = 0; i < audio.length; i += block) out.push(await s.process(audio.subarray(i, i + block)));
  return concatSamples(out);
}

describe('RNNoise noise suppression (@shiguredo/rnnoise-wasm in a worker thread)', () => {
  after(stopNoiseSuppression);
  const speech = espeakSpeech('Please call me back after the meeting.');

  it('removes steady noise and keeps speech', async () => {
    const noise = whiteNoise(RATE * 2 + speech.length, 2000);
    const mixed = noise.map((n, i) => n + (i >= RATE * 2 ? (speech[i - RATE * 2] ?? 0) : 0));
    const out = await through(await NoiseSuppressor.open(RATE), mixed, 320);
    const noiseOnly: [number, number] = [RATE, 2 * RATE - 800];
    assert.ok(rmsDbfs(mixed, ...noiseOnly) - rmsDbfs(out, ...noiseOnly) > 20, `noise ${rmsDbfs(mixed, ...noiseOnly).toFixed(1)} → ${rmsDbfs(out, ...noiseOnly).toFixed(1)} dBFS`);
    const speechPart: [number, number] = [2 * RATE, 2 * RATE + speech.length - 800];
    assert.ok(Math.abs(rmsDbfs(speech) - rmsDbfs(out, ...speechPart)) < 6, `speech ${rmsDbfs(speech).toFixed(1)} → ${rmsDbfs(out, ...speechPart).toFixed(1)} dBFS`);
  });

  it('takes odd block lengths and any rate, keeping the stream length within one frame and a half', async () => {
    for (const rate of [8000, 16000, 48000]) {
      const audio = whiteNoise(rate, 3000);
      const out = await through(await NoiseSuppressor.open(rate), audio, 317);
      assert.ok(audio.length - out.length >= 0 && audio.length - out.length <= rate * 0.015, `${rate} Hz: ${audio.length} in, ${out.length} out`);
    }
    await assert.rejects(NoiseSuppressor.open(0), RangeError);
  });

  it('runs before the VAD in a speech detector: the energy VAD sends far less noise to recognition', async () => {
    const noisy = whiteNoise(RATE * 4, 3000);
    /** Audio the detector passes on as utterances (pre-roll and speech), in samples. */
    const sent = async (noiseSuppression: boolean): Promise<number> => {
      let samples = 0;
      const d = await SpeechDetector.open({ sampleRateHz: RATE, vad: 'energy', noiseSuppression }, (events) => {
        for (const e of events) samples += e.type === 'speech' ? e.samples.length : e.type === 'speech-start' ? e.preRoll.length : 0;
      }, (err) => assert.fail(String(err)));
      for (let i = 0; i < noisy.length; i += 320) d.push(noisy.subarray(i, i + 320));
      await d.finish();
      d.close();
      return samples;
    };
    const [unsuppressed, suppressed] = [await sent(false), await sent(true)];
    assert.ok(unsuppressed > RATE, `${unsuppressed} samples of noise sent without suppression`);
    assert.ok(suppressed < unsuppressed / 3, `${suppressed} samples sent with suppression, ${unsuppressed} without`);
  });
});
