import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import wavefile from 'wavefile';
import { alawToLinear, decodeToLinear, encodeFromLinear, linearToAlaw, linearToMulaw, mulawDecode, mulawDecodeSample, mulawEncode, mulawEncodeSample, mulawToLinear } from './g711.js';

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

describe('G.711', () => {
  it('µ-law: known code points (ITU-T G.711 table) and a round trip within the step size', () => {
    assert.equal(mulawToLinear(0xff), 0);
    assert.equal(mulawToLinear(0x7f), 0);
    assert.equal(mulawToLinear(0x80), 32124);
    assert.equal(mulawToLinear(0x00), -32124);
    assert.equal(linearToMulaw(0), 0xff);
    for (let s = -32000; s <= 32000; s += 97) {
      const back = mulawToLinear(linearToMulaw(s));
      assert.ok(Math.abs(back - s) <= Math.max(8, Math.abs(s) / 16), `${s} → ${back}`);
    }
  });

  it('A-law: known code points and a round trip within the step size', () => {
    assert.equal(alawToLinear(0xd5), 8);
    assert.equal(alawToLinear(0x55), -8);
    assert.equal(alawToLinear(0xaa), 32256);
    assert.equal(linearToAlaw(0), 0xd5);
    for (let s = -32000; s <= 32000; s += 97) {
      const back = alawToLinear(linearToAlaw(s));
      assert.ok(Math.abs(back - s) <= Math.max(16, Math.abs(s) / 16), `${s} → ${back}`);
    }
  });

  it('encodings: pcm_16 and pcm_8 decode and encode to each other', () => {
    const pcm = Buffer.alloc(4);
    pcm.writeInt16LE(-1000, 0);
    pcm.writeInt16LE(1000, 2);
    assert.deepEqual([...decodeToLinear(pcm, 'pcm_16')], [-1000, 1000]);
    assert.deepEqual([...decodeToLinear(Buffer.from([0, 128, 255]), 'pcm_8')], [-32768, 0, 32512]);
    assert.deepEqual([...encodeFromLinear(Int16Array.from([-32768, 0, 32512]), 'pcm_8')], [0, 128, 255]);
    assert.equal(encodeFromLinear(Int16Array.from([1, 2, 3]), 'mulaw').length, 3);
  });
});
