import assert from 'node:assert/strict';
import { it } from 'node:test';
import { resample, StreamingResampler } from './resampler.js';

function sine(freqHz: number, rateHz: number, seconds: number): Int16Array {
  return Int16Array.from({ length: Math.round(rateHz * seconds) }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * freqHz * i) / rateHz)));
}

function zeroCrossings(s: Int16Array): number {
  let n = 0;
  for (let i = 1; i < s.length; i++) if (((s[i - 1] ?? 0) < 0) !== ((s[i] ?? 0) < 0)) n++;
  return n;
}

for (const [from, to] of [[48000, 16000], [8000, 16000], [22050, 16000], [16000, 48000]] as const) {
  it(`keeps a 440 Hz tone's pitch and length from ${from} to ${to} Hz, chunk by chunk`, () => {
    const input = sine(440, from, 1);
    const r = new StreamingResampler(from, to);
    const parts: Int16Array[] = [];
    for (let i = 0; i < input.length; i += 333) parts.push(r.process(input.subarray(i, i + 333)));
    parts.push(r.flush());
    const out = Int16Array.from(parts.flatMap((p) => [...p]));
    assert.ok(Math.abs(out.length - to) <= 32 * Math.max(1, to / from) + 2, `length ${out.length} for 1 s at ${to} Hz`);
    assert.ok(Math.abs(zeroCrossings(out.subarray(100, to - 100)) / ((to - 200) / to) - 880) < 10);
    const peak = Math.max(...out.subarray(100, to - 100));
    assert.ok(peak > 9000 && peak < 11000, `amplitude ${peak}`);
  });
}

it('removes a tone above the new Nyquist frequency when downsampling', () => {
  const out = resample(sine(6000, 48000, 0.5), 48000, 8000);
  const peak = Math.max(...out.subarray(50, out.length - 50).map(Math.abs));
  assert.ok(peak < 1000, `6 kHz leaked through at ${peak}`);
});
