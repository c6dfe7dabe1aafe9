import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpeechSequencer } from './room-speech.js';

const block = (n: number): Buffer => Buffer.from([n, 0]);

function recorder(stallMs?: number): { played: string[]; s: SpeechSequencer } {
  const played: string[] = [];
  const s = new SpeechSequencer((speakerId, pcm) => played.push(`${speakerId}${pcm[0]}`), stallMs);
  return { played, s };
}

describe('SpeechSequencer: one utterance at a time per language', () => {
  it('plays the first stream at once and holds a concurrent one until the first ends', () => {
    const { played, s } = recorder();
    s.push('u1', 'a', block(1));
    s.push('u2', 'b', block(1));
    s.push('u1', 'a', block(2));
    s.push('u2', 'b', block(2));
    assert.deepEqual(played, ['a1', 'a2']);
    s.end('u1');
    assert.deepEqual(played, ['a1', 'a2', 'b1', 'b2']);
    s.push('u2', 'b', block(3));
    assert.deepEqual(played.at(-1), 'b3');
    s.end('u2');
    s.close();
  });

  it('plays waiting streams in the order they began, including those already ended', () => {
    const { played, s } = recorder();
    s.push('u1', 'a', block(1));
    s.push('u2', 'b', block(1));
    s.end('u2');
    s.push('u3', 'c', block(1));
    s.end('u1');
    assert.deepEqual(played, ['a1', 'b1', 'c1']);
    s.push('u3', 'c', block(2));
    assert.deepEqual(played.at(-1), 'c2');
    s.close();
  });

  it('gives up a stream that stays silent (its process died) and ignores its late blocks', async () => {
    const { played, s } = recorder(50);
    s.push('u1', 'a', block(1));
    s.push('u2', 'b', block(1));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(played, ['a1', 'b1']);
    s.push('u1', 'a', block(2));
    s.end('u1');
    assert.deepEqual(played, ['a1', 'b1']);
    s.end('u2');
    s.close();
  });

  it('an end without any block changes nothing', () => {
    const { played, s } = recorder();
    s.end('u0');
    s.push('u0', 'a', block(1));
    s.push('u1', 'a', block(1));
    assert.deepEqual(played, ['a1']);
    s.close();
  });
});
