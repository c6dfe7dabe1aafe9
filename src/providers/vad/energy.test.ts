import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EnergyVad, type VadEvent } from './energy.js';

const RATE = 16000;
function tone(ms: number): Int16Array {
  return Int16Array.from({ length: (RATE * ms) / 1000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / RATE)));
}
function quiet(ms: number): Int16Array {
  return Int16Array.from({ length: (RATE * ms) / 1000 }, () => Math.round((Math.random() - 0.5) * 20));
}
function run(vad: EnergyVad, parts: Int16Array[]): VadEvent[] {
  return parts.flatMap((p) => vad.push(p));
}

it('opens at speech and closes after the endpoint silence, at the end of the voice', () => {
  const events = run(new EnergyVad({ sampleRateHz: RATE, endpointSilenceMs: 300 }), [quiet(500), tone(800), quiet(200), quiet(400)]);
  const start = events.find((e) => e.type === 'speech-start');
  const end = events.find((e) => e.type === 'speech-end');
  assert.ok(start && start.type === 'speech-start' && start.atMs >= 250 && start.atMs <= 520, JSON.stringify(start?.type === 'speech-start' && start.atMs));
  assert.ok(end && end.type === 'speech-end' && Math.abs(end.atMs - 1300) <= 20 && end.reason === 'pause');
});

it('keeps short pauses inside one utterance', () => {
  const events = run(new EnergyVad({ sampleRateHz: RATE, endpointSilenceMs: 300 }), [quiet(300), tone(400), quiet(150), tone(400), quiet(500)]);
  assert.equal(events.filter((e) => e.type === 'speech-end').length, 1);
});

it('ends a long monologue at a short pause after maxUtteranceMs', () => {
  const events = run(new EnergyVad({ sampleRateHz: RATE, maxUtteranceMs: 1000 }), [quiet(300), tone(1200), quiet(150), tone(500), quiet(500)]);
  const ends = events.filter((e) => e.type === 'speech-end');
  assert.equal(ends.length, 2);
  assert.equal(ends[0]?.type === 'speech-end' && ends[0].reason, 'sentence-pause');
});
