import { describe, expect, it } from 'vitest';
import { floatToInt16, int16BytesToFloat, lowPassTaps, StreamingResampler } from './resampler';

/** Feeds `seconds` of a sine at `frequencyHz` through a resampler in 128-sample render quanta. */
function resampleSine(inputRateHz: number, frequencyHz: number, seconds = 1): Float32Array {
  const resampler = new StreamingResampler(inputRateHz, 16000);
  const total = Math.round(inputRateHz * seconds);
  const out: number[] = [];
  for (let start = 0; start < total; start += 128) {
    const chunk = new Float32Array(Math.min(128, total - start));
    for (let i = 0; i < chunk.length; i++) chunk[i] = 0.5 * Math.sin((2 * Math.PI * frequencyHz * (start + i)) / inputRateHz);
    out.push(...resampler.process(chunk));
  }
  return Float32Array.from(out);
}

const peak = (samples: Float32Array) => samples.reduce((max, s) => Math.max(max, Math.abs(s)), 0);

function zeroCrossingFrequencyHz(samples: Float32Array, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return crossings / 2 / (samples.length / rateHz);
}

describe('StreamingResampler', () => {
  for (const inputRateHz of [48000, 44100, 32000, 16000]) {
    it(`turns ${inputRateHz} Hz into 16 kHz without changing a 1 kHz tone`, () => {
      const out = resampleSine(inputRateHz, 1000);
      expect(Math.abs(out.length - 16000)).toBeLessThanOrEqual(2);
      const settled = out.subarray(1000);
      expect(peak(settled)).toBeGreaterThan(0.49);
      expect(peak(settled)).toBeLessThan(0.51);
      expect(zeroCrossingFrequencyHz(settled, 16000)).toBeCloseTo(1000, -1);
    });
  }

  it('removes content above 8 kHz instead of folding it into the speech band', () => {
    expect(peak(resampleSine(48000, 12000).subarray(1000))).toBeLessThan(0.01);
    expect(peak(resampleSine(44100, 11000).subarray(1000))).toBeLessThan(0.01);
  });

  it('joins chunks seamlessly: the output does not depend on how the input was split', () => {
    const input = new Float32Array(4800).map((_, i) => Math.sin(i / 7) * 0.3);
    const whole = new StreamingResampler(48000, 16000).process(input);
    const split = new StreamingResampler(48000, 16000);
    const parts = [split.process(input.subarray(0, 100)), split.process(input.subarray(100, 2177)), split.process(input.subarray(2177))];
    const joined = Float32Array.from(parts.flatMap((p) => [...p]));
    expect(joined.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(joined[i]).toBeCloseTo(whole[i]!, 5);
  });
});

describe('lowPassTaps', () => {
  it('has unit gain at DC and an odd, symmetric length', () => {
    const taps = lowPassTaps(0.14, 60);
    expect(taps.length).toBe(61);
    expect(taps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(taps[0]).toBeCloseTo(taps[60]!, 7);
  });
});

describe('PCM conversion', () => {
  it('converts floats to s16 with clamping', () => {
    expect([1, -1, 2, -2, 0, 0.5].map(floatToInt16)).toEqual([32767, -32768, 32767, -32768, 0, 16384]);
  });

  it('reads s16le bytes as floats and ignores a trailing odd byte', () => {
    const bytes = new ArrayBuffer(5);
    const view = new DataView(bytes);
    view.setInt16(0, -32768, true);
    view.setInt16(2, 16384, true);
    expect([...int16BytesToFloat(bytes)]).toEqual([-1, 0.5]);
  });
});
