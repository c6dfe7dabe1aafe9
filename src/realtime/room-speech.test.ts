import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
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

// The phone's former SpeakerTurns tests, assertions unchanged: it is now this sequencer with turnsByGap.
describe('SpeechSequencer with turnsByGap: a phone callee hears one speaker at a time', () => {
  const turnBlock = (n: number): Buffer => Buffer.from([n]);
  const turnsOf = (send: (speaker: string, b: Buffer) => void, gapMs: number, maxWaitingBytes?: number) => {
    const s = new SpeechSequencer(send, gapMs, { turnsByGap: true, ...(maxWaitingBytes !== undefined ? { maxWaitingBytes } : {}) });
    return { push: (speaker: string, b: Buffer) => s.push(speaker, speaker, b), clear: () => s.clear() };
  };

  it('passes one speaker at a time: a second speaker waits until the first has been quiet for the gap', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const sent: string[] = [];
      const turns = turnsOf((speaker, b) => sent.push(`${speaker}${b[0]}`), 400);
      turns.push('a', turnBlock(1));
      turns.push('b', turnBlock(1));
      turns.push('a', turnBlock(2));
      turns.push('b', turnBlock(2));
      turns.push('c', turnBlock(1));
      assert.deepEqual(sent, ['a1', 'a2']);
      mock.timers.tick(399);
      assert.deepEqual(sent, ['a1', 'a2'], 'the turn lasts while the gap has not passed');
      mock.timers.tick(1);
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2'], 'b follows in its own order, whole');
      turns.push('b', turnBlock(3));
      turns.push('a', turnBlock(3));
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2', 'b3']);
      mock.timers.tick(400);
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2', 'b3', 'c1'], 'c began before a spoke again');
      mock.timers.tick(400);
      assert.deepEqual(sent.slice(6), ['a3']);
      mock.timers.tick(400);
      turns.push('c', turnBlock(2));
      assert.deepEqual(sent.slice(7), ['c2'], 'with nobody speaking, a block goes out at once');
      turns.clear();
    } finally {
      mock.timers.reset();
    }
  });

  it('bounds what a waiting speaker holds and drops everything on close', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const sent: string[] = [];
      const turns = turnsOf((speaker, b) => sent.push(`${speaker}${b.length}`), 400, 10);
      turns.push('a', Buffer.alloc(4));
      turns.push('b', Buffer.alloc(6));
      turns.push('b', Buffer.alloc(6)); // 12 > 10: dropped
      turns.push('b', Buffer.alloc(4));
      mock.timers.tick(400);
      assert.deepEqual(sent, ['a4', 'b6', 'b4']);
      turns.push('c', Buffer.alloc(2));
      turns.clear();
      mock.timers.tick(1000);
      assert.deepEqual(sent, ['a4', 'b6', 'b4']);
    } finally {
      mock.timers.reset();
    }
  });
});
