import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resample } from '../../audio/resampler.js';
import { readWav } from '../../audio/wav.js';
import { PocketsphinxStt, pocketsphinxAvailable } from './pocketsphinx.js';

/** Debian's pocketsphinx-testdata LibriVox recordings (16 kHz mono). */
const DIR = '/usr/share/pocketsphinx/test/data/librivox';
const TARGET = 'sense_and_sensibility_01_austen_64kb-0930.wav';

function recording(name: string): Int16Array {
  return readWav(fs.readFileSync(path.join(DIR, name))).samples;
}

/** The same speech as a telephone line carries it: band-limited to 8 kHz, then back to 16 kHz. */
function telephoneBand(samples: Int16Array): Int16Array {
  return resample(resample(samples, 16000, 8000), 8000, 16000);
}

/** Decodes `samples` as one stream of one utterance in 100 ms pushes; the final's text. */
async function recognize(stt: PocketsphinxStt, samples: Int16Array): Promise<string> {
  const stream = await stt.open({ language: 'en-US', internal: true });
  for (let i = 0; i < samples.length; i += 1600) stream.push(samples.subarray(i, i + 1600));
  const final = await stream.flush();
  await stream.close();
  return final.text;
}

describe('a pooled pocketsphinx decoder', { skip: (!pocketsphinxAvailable() || !fs.existsSync(path.join(DIR, TARGET))) && 'pocketsphinx or its test recordings are not installed' }, () => {
  it('recognizes a stream the same whatever earlier streams on the same decoder sounded like', { timeout: 300_000 }, async () => {
    // One decoder, handed from stream to stream: its cepstral mean and noise statistics would carry
    // the previous callers' channel into the next stream (pocketsphinx-cmn.ts).
    const stt = new PocketsphinxStt({ maxIdleDecoders: 1, spareDecoders: 0 });
    try {
      const target = recording(TARGET);
      const first = await recognize(stt, target);
      assert.ok(first.split(' ').length >= 5, `no usable transcript: "${first}"`);
      const others = fs.readdirSync(DIR).filter((f) => f.endsWith('.wav') && f !== TARGET).sort();
      assert.ok(others.length >= 2);
      for (const other of others) await recognize(stt, telephoneBand(recording(other)));
      await recognize(stt, telephoneBand(target));
      assert.equal(stt.stats().loads, 1, 'every stream must have run on the one decoder, or this proves nothing');
      assert.equal(await recognize(stt, target), first);
    } finally {
      await stt.close();
    }
  });
});
