import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { readWav } from '../../audio/wav.js';
import { PocketsphinxStt, pocketsphinxAvailable } from './pocketsphinx.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';

function recording(id: string): Int16Array {
  return readWav(fs.readFileSync(`${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-${id}.wav`)).samples;
}

async function finalOf(stt: PocketsphinxStt, samples: Int16Array): Promise<{ text: string; confidence?: number }> {
  const stream = await stt.open({ language: 'en-US' });
  try {
    for (let i = 0; i < samples.length; i += 1600) stream.push(samples.subarray(i, i + 1600));
    return await stream.flush();
  } finally {
    await stream.close();
  }
}

describe('pocketsphinx: confidence of a final transcript', { skip: pocketsphinxAvailable() ? false : 'pocketsphinx is not installed' }, () => {
  const stt = new PocketsphinxStt({ maxIdleDecoders: 1, spareDecoders: 0 });
  after(() => stt.close());

  it('scores real speech higher than the same speech played backwards', async () => {
    const speech = await finalOf(stt, recording('0880'));
    const reversed = await finalOf(stt, recording('0870').slice().reverse());
    console.log(`# "${speech.text}" ${speech.confidence?.toFixed(3)}; reversed: "${reversed.text}" ${reversed.confidence?.toFixed(3)}`);
    assert.match(speech.text, /young man/);
    assert.ok(speech.confidence !== undefined && speech.confidence >= 0.7 && speech.confidence <= 1 && speech.confidence > reversed.confidence! + 0.15, `speech ${speech.confidence}`);
    assert.ok(reversed.text.split(' ').length >= 2, `reversed speech decoded as "${reversed.text}"`);
    assert.ok(reversed.confidence !== undefined && reversed.confidence <= 0.6, `reversed ${reversed.confidence}`);
  });

  it('gives no confidence for silence (no words)', async () => {
    const final = await finalOf(stt, new Int16Array(16_000));
    assert.equal(final.text, '');
    assert.equal(final.confidence, undefined);
  });
});
