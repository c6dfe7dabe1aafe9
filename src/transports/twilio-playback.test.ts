import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bargeIn, type AudioOutput } from '../core/audio-output.js';
import { TwilioPlayback } from './twilio-playback.js';

/** 40 ms of s16le at 8000 Hz: two 20 ms µ-law frames. */
const PCM_40MS = Buffer.alloc(640, 0x10);

function playback(): { out: AudioOutput & TwilioPlayback; sent: Array<Record<string, any>>; finished: number[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const sent: Array<Record<string, any>> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const out = new TwilioPlayback('MZ1', (text) => {
    sent.push(JSON.parse(text));
    return true;
  });
  const finished: number[] = [];
  out.onPlaybackFinished(() => finished.push(sent.length));
  return { out, sent, finished };
}

describe('TwilioPlayback as the call\'s audio output', () => {
  it('plays 20 ms media frames then a mark; playback finishes when Twilio echoes the last mark', () => {
    const { out, sent, finished } = playback();
    out.play(PCM_40MS);
    out.play(PCM_40MS);
    assert.deepEqual(sent.map((m) => m.event), ['media', 'media', 'mark', 'media', 'media', 'mark']);
    assert.ok(sent.filter((m) => m.event === 'media').every((m) => Buffer.from(m.media.payload, 'base64').length === 160));
    assert.equal(out.playing, true);
    out.markPlayed(sent[2]?.mark.name);
    assert.deepEqual(finished, [], 'the second burst still plays');
    out.markPlayed(sent[5]?.mark.name);
    assert.equal(out.playing, false);
    assert.deepEqual(finished, [6], 'finished once, after the last mark');
    out.markPlayed(sent[5]?.mark.name);
    assert.deepEqual(finished, [6], 'an echo again is no new end');
  });

  it('barge-in clears what plays (Twilio `clear`); the echoed marks report the end; nothing plays, nothing is sent', () => {
    const { out, sent, finished } = playback();
    assert.equal(bargeIn(out), false);
    assert.equal(sent.length, 0, 'no clear when nothing plays');
    out.play(PCM_40MS);
    assert.equal(bargeIn(out), true);
    assert.deepEqual(sent.at(-1), { event: 'clear', streamSid: 'MZ1' });
    out.markPlayed(sent[2]?.mark.name);
    assert.deepEqual(finished, [4]);
  });

  it('after close, audio and clears are dropped', () => {
    const { out, sent } = playback();
    out.close();
    out.play(PCM_40MS);
    out.clear();
    assert.deepEqual(sent, []);
  });
});
