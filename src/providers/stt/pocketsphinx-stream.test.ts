import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import type { SttTranscript } from './types.js';
import { PocketsphinxStt, pocketsphinxAvailable } from './pocketsphinx.js';

/** A 16 kHz mono LibriVox recording shipped with pocketsphinx's tests (RIFF header skipped). */
const RECORDING = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.wav';

function samples(): Int16Array {
  const bytes = fs.readFileSync(RECORDING);
  const data = bytes.indexOf('data') + 8;
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset + data, bytes.byteOffset + bytes.length - ((bytes.length - data) % 2)));
}

describe('a pocketsphinx stream that is behind', { skip: (!pocketsphinxAvailable() || !fs.existsSync(RECORDING)) && 'pocketsphinx or its test recordings are not installed' }, () => {
  it('still sends an interim before each final when the next utterance\'s audio is already queued', { timeout: 300_000 }, async () => {
    const stt = new PocketsphinxStt({ maxIdleDecoders: 1, spareDecoders: 0 });
    try {
      const stream = await stt.open({ language: 'en-US', internal: true });
      const seen: SttTranscript[] = [];
      const reading = (async () => {
        for await (const t of stream) seen.push(t);
      })();
      const audio = samples();
      // Both utterances' audio arrives before the recognizer decoded any of it: every block of
      // the first is decoded with more audio queued behind it.
      stream.push(audio);
      const first = stream.flush();
      stream.push(audio);
      const second = stream.flush();
      assert.ok((await first).text.split(' ').length >= 3);
      assert.ok((await second).text.split(' ').length >= 3);
      await stream.close();
      await reading;
      const kinds = seen.map((t) => t.type);
      const firstFinal = kinds.indexOf('final');
      assert.ok(kinds.slice(0, firstFinal).includes('interim'), `no interim before the first final: ${kinds.join(',')}`);
      assert.ok(kinds.slice(firstFinal + 1, -1).includes('interim'), `no interim before the second final: ${kinds.join(',')}`);
    } finally {
      await stt.close();
    }
  });
});
