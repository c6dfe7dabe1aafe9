import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PocketsphinxStt, pocketsphinxAvailable } from './pocketsphinx.js';

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('pocketsphinx recognizers follow demand', { skip: !pocketsphinxAvailable() && 'pocketsphinx is not installed' }, () => {
  it('keeps a warm reserve, loads another when a stream takes it, and frees idle ones beyond the reserve', { timeout: 300_000 }, async () => {
    const stt = new PocketsphinxStt({ maxIdleDecoders: 4, spareDecoders: 1, idleReleaseMs: 300 });
    try {
      await stt.prewarm(3);
      assert.equal(stt.stats().idle, 3);
      assert.equal(stt.stats().loaded, 3);
      // Nobody took one for idleReleaseMs: the two beyond the reserve are freed.
      await until('the idle recognizers beyond the reserve freed', () => stt.stats().loaded === 1);
      assert.equal(stt.stats().idle, 1);

      // A stream takes the reserve: another is loaded in the background, ready for the next stream.
      const stream = await stt.open({ language: 'en-US', internal: true });
      assert.equal(stt.stats().idle, 0);
      await until('the reserve loaded again', () => stt.stats().idle === 1);
      assert.equal(stt.stats().loaded, 2);
      await stream.close();
      assert.equal(stt.stats().idle, 2);
      await until('back to the reserve', () => stt.stats().loaded === 1);
      const mb = stt.stats().mbPerRecognizer ?? 0;
      assert.ok(mb > 20 && mb < 200, `a recognizer measured at ${mb} MB`);
    } finally {
      await stt.close();
    }
  });
});
