import assert from 'node:assert/strict';
import { it } from 'node:test';
import wavefile from 'wavefile';
import { mulawDecode, mulawDecodeSample, mulawEncode, mulawEncodeSample } from './g711.js';

it('encodes and decodes the G.711 µ-law reference points', () => {
  assert.equal(mulawEncodeSample(0), 0xff);
  assert.equal(mulawDecodeSample(0xff), 0);
  assert.equal(mulawDecodeSample(0x7f), 0);
  assert.equal(mulawDecodeSample(0x80), 32124);
  assert.equal(mulawDecodeSample(0x00), -32124);
  assert.equal(mulawEncodeSample(32767), 0x80);
  assert.equal(mulawEncodeSample(-32768), 0x00);
});

it('agrees byte for byte with wavefile’s µ-law encoder over the whole s16 range', () => {
  const samples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 8000, '16', samples);
  wav.toMuLaw();
  const reference = (wav.data as { samples: Uint8Array }).samples;
  assert.deepEqual(mulawEncode(samples), Buffer.from(reference));
});

it('round-trips every s16 sample within one quantization step of its segment', () => {
  for (let x = -32768; x <= 32767; x += 7) {
    const back = mulawDecode(mulawEncode(Int16Array.of(x)))[0] ?? 0;
    const magnitude = Math.min(Math.abs(x), 32635);
    // Segment e has steps of 2^(e+3): the error is at most one step (G.711 decodes to mid-step).
    const step = 1 << (Math.max(0, Math.floor(Math.log2((magnitude + 0x84) >> 7))) + 3);
    assert.ok(Math.abs(back - Math.max(-32635, Math.min(32635, x))) <= step, `${x} → ${back}`);
  }
});
