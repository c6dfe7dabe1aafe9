import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import wavefile from 'wavefile';
import { alawToLinear, decodeToLinear, encodeFromLinear, linearToAlaw, linearToMulaw, mulawToLinear } from './g711.js';

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

describe('G.711 against an independent implementation', () => {
  const everySample = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

  it('µ-law encodes all 65536 s16 values byte for byte as wavefile does', () => {
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, 8000, '16', everySample);
    wav.toMuLaw();
    assert.deepEqual(encodeFromLinear(everySample, 'mulaw'), Buffer.from((wav.data as { samples: Uint8Array }).samples));
  });

  it('µ-law decodes all 256 bytes as wavefile does', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, 8000, '8m', bytes);
    wav.fromMuLaw();
    assert.deepEqual(Array.from(decodeToLinear(bytes, 'mulaw')), Array.from(wav.getSamples(false, Int16Array) as unknown as ArrayLike<number>));
  });
});
