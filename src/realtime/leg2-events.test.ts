import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWorkerEvent, Leg2EventDecoder, utteranceEndMessage } from './leg2-events.js';
import { renderEvent } from './stream-events.js';
import type { WorkerEvent } from './worker-link.js';

const startedAt = new Date('2026-03-25T19:24:45.370Z');
const interim: WorkerEvent = { type: 'transcript', utteranceId: 'u1', text: 'He', final: false, startedAt, durationMs: 100 };
const final: WorkerEvent = { type: 'transcript', utteranceId: 'u1', text: 'Hello', final: true, startedAt, durationMs: 436 };
const translation: WorkerEvent = { type: 'translation', utteranceId: 'u1', text: 'Hola', final: true, latencyMs: 337, transcript: 'Hello' };
const end: WorkerEvent = {
  type: 'utterance-end', utteranceId: 'u1', transcript: 'Hello', translation: 'Hola', startedAt, durationMs: 436, confidence: 0.87,
  latency: { endpointMs: 310, finalTranscriptMs: 350, translationMs: 380, firstAudioByteMs: null },
};
const error: WorkerEvent = { type: 'error', status: 500, description: 'Server failed to process the audio stream', cause: new Error('boom') };

/** Encodes every event on a worker, decodes every frame on a gateway. */
function roundTrip(events: WorkerEvent[], referenceId?: string): { frames: string[]; decoded: WorkerEvent[] } {
  const frames = events.flatMap((e) => encodeWorkerEvent(e, referenceId));
  const decoder = new Leg2EventDecoder();
  return { frames, decoded: frames.flatMap((f) => decoder.decode(f)) };
}

describe('leg-2 event codec (spec 002 Part 3 "Worker Events")', () => {
  it('round-trips every event type to the same typed event; a translation keeps its latency and final text', () => {
    const { decoded } = roundTrip([interim, final, translation, end, error], 'r');
    assert.deepEqual(decoded, [interim, final, translation, end, { ...error, cause: undefined }]);
    const t = decoded.find((e) => e.type === 'translation');
    assert.ok(t?.type === 'translation' && Number.isFinite(t.latencyMs), 'never NaN');
  });

  it('sends Part 1 JSON byte for byte as a /vt client gets it, then the internal frames', () => {
    const { frames } = roundTrip([interim, final, translation, end, error], 'r');
    assert.deepEqual(frames, [
      '{"transcript":{"text":"He","final":false,"start":"2026-03-25T19:24:45.370+00:00","duration":100,"utterance_id":"u1","reference_id":"r"}}',
      '{"transcript":{"text":"Hello","final":true,"start":"2026-03-25T19:24:45.370+00:00","duration":436,"utterance_id":"u1","reference_id":"r"}}',
      '{"translate":{"text":"Hola","final":true,"utterance_id":"u1","reference_id":"r"}}',
      '{"translation_latency":{"utterance_id":"u1","latency_ms":337,"transcript":"Hello"}}',
      utteranceEndMessage(end as Extract<WorkerEvent, { type: 'utterance-end' }>),
      '{"error":{"code":500,"reason":"Internal Server Error","description":"Server failed to process the audio stream","reference_id":"r"}}',
    ]);
    for (const e of [interim, final, translation, error]) assert.ok(frames.includes(renderEvent(e, 'r') ?? ''));
  });

  it('reads the frames of a worker of the previous frame set (no transcript in translation_latency, no confidence)', () => {
    const decoder = new Leg2EventDecoder();
    const frames = [
      '{"transcript":{"text":"Hello","final":true,"start":"2026-03-25T19:24:45.370+00:00","duration":436,"utterance_id":"u1","reference_id":"r"}}',
      '{"translate":{"text":"Hola","final":true,"utterance_id":"u1"}}',
      '{"translation_latency":{"utterance_id":"u1","latency_ms":337}}',
      '{"utterance_end":{"utterance_id":"u1","transcript":"Hello","translation":"Hola","start":"2026-03-25T19:24:45.370Z","duration":436,"latency":{"endpoint_ms":310,"final_transcript_ms":350,"translation_ms":380,"first_audio_ms":null}}}',
    ];
    assert.deepEqual(frames.flatMap((f) => decoder.decode(f)), [final, translation, { ...end, confidence: null }]);
  });

  it('a translation whose latency frame is missing takes the latency of its utterance end', () => {
    const decoder = new Leg2EventDecoder();
    assert.deepEqual(decoder.decode(renderEvent(translation, undefined) ?? ''), []);
    const events = decoder.decode(utteranceEndMessage(end as Extract<WorkerEvent, { type: 'utterance-end' }>));
    assert.deepEqual(events, [{ ...translation, latencyMs: 380 }, end]);
  });

  it('ignores the ack, unknown frames and what is not JSON', () => {
    const decoder = new Leg2EventDecoder();
    assert.deepEqual(decoder.decode('{"ack":{"request_id":"api-1","worker_id":"wrk_1"}}'), []);
    assert.deepEqual(decoder.decode('{"nope":1}'), []);
    assert.deepEqual(decoder.decode('not json'), []);
  });
});
