import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseVoice, estimatePitchHz } from './voice-choice.js';

/** A voiced-like tone: a fundamental at `pitchHz` with two harmonics, `durationMs` long, mono s16. */
function voiced(pitchHz: number, sampleRateHz: number, durationMs: number): Int16Array {
  const out = new Int16Array((sampleRateHz * durationMs) / 1000);
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRateHz;
    out[i] = Math.round(6000 * Math.sin(2 * Math.PI * pitchHz * t) + 3000 * Math.sin(4 * Math.PI * pitchHz * t) + 1500 * Math.sin(6 * Math.PI * pitchHz * t));
  }
  return out;
}

describe('estimatePitchHz', () => {
  it('finds the fundamental of low and high voices at 48 and 16 kHz, within 5%', () => {
    for (const rate of [48_000, 16_000]) {
      for (const pitch of [110, 210]) {
        const estimate = estimatePitchHz(voiced(pitch, rate, 1000), rate);
        assert.ok(estimate !== undefined && Math.abs(estimate - pitch) / pitch < 0.05, `${pitch} Hz at ${rate} Hz: got ${estimate}`);
      }
    }
  });

  it('is undefined for silence', () => {
    assert.equal(estimatePitchHz(new Int16Array(48_000), 48_000), undefined);
  });
});

describe('chooseVoice', () => {
  it('keeps female and male, and maps clone to the variant nearest the pitch (female when unknown)', () => {
    assert.equal(chooseVoice('female', 100), 'female');
    assert.equal(chooseVoice('male', 250), 'male');
    assert.equal(chooseVoice('clone', 110), 'male');
    assert.equal(chooseVoice('clone', 210), 'female');
    assert.equal(chooseVoice('clone', undefined), 'female');
  });
});
