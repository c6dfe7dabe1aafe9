import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { SpeakerTurns } from './speaker-turns.js';

const block = (n: number): Buffer => Buffer.from([n]);

describe('SpeakerTurns', () => {
  it('passes one speaker at a time: a second speaker waits until the first has been quiet for the gap', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const sent: string[] = [];
      const turns = new SpeakerTurns((speaker, b) => sent.push(`${speaker}${b[0]}`), 400);
      turns.push('a', block(1));
      turns.push('b', block(1));
      turns.push('a', block(2));
      turns.push('b', block(2));
      turns.push('c', block(1));
      assert.deepEqual(sent, ['a1', 'a2']);
      mock.timers.tick(399);
      assert.deepEqual(sent, ['a1', 'a2'], 'the turn lasts while the gap has not passed');
      mock.timers.tick(1);
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2'], 'b follows in its own order, whole');
      turns.push('b', block(3));
      turns.push('a', block(3));
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2', 'b3']);
      mock.timers.tick(400);
      assert.deepEqual(sent, ['a1', 'a2', 'b1', 'b2', 'b3', 'c1'], 'c began before a spoke again');
      mock.timers.tick(400);
      assert.deepEqual(sent.slice(6), ['a3']);
      mock.timers.tick(400);
      turns.push('c', block(2));
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
      const turns = new SpeakerTurns((speaker, b) => sent.push(`${speaker}${b.length}`), 400, 10);
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
