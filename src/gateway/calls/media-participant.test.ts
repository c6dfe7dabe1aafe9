import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MediaParticipant } from './media-participant.js';

it('a transcript of its own leg drops the audio playing to the caller (barge-in); the other leg\'s does not', () => {
  let clears = 0;
  const participant = new MediaParticipant('customer', { encoding: 'mulaw', sampleRateHz: 8000 }, {
    sendAudio: () => undefined, clearAudio: () => void clears++, close: () => undefined,
  });
  const transcript = { type: 'transcript', id: 'seg_1', language: 'de', text: 'guten', isFinal: false, startTimeS: 0, confidence: null } as const;
  participant.send({ ...transcript, speaker: 'agent' });
  participant.send({ type: 'translation', id: 'seg_1', speaker: 'agent', sourceLanguage: 'en', targetLanguage: 'de', text: 'hallo', sourceText: 'hello' });
  assert.equal(clears, 0);
  participant.send({ ...transcript, speaker: 'customer' });
  assert.equal(clears, 1);
  participant.end('session ended');
  participant.send({ ...transcript, speaker: 'customer' });
  assert.equal(clears, 1, 'nothing after the leg ended');
});
