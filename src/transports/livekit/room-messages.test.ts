import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transcriptionAttributes, transcriptMessage } from './room-messages.js';

describe('room messages', () => {
  it('builds spec 001 data messages: Unix seconds, translations always final, speaker only when asked', () => {
    assert.deepEqual(transcriptMessage('original_transcript', 'Hello', false, 'en-US', 1_770_933_604_048), {
      type: 'original_transcript', text: 'Hello', timestamp: 1_770_933_604.048, is_final: false, language_detected: 'en-US',
    });
    assert.deepEqual(transcriptMessage('translated_transcript', 'Hola', false, 'en-US', 1_770_933_604_945, { participantId: 'usr_1', speakerName: 'Dr. Smith' }), {
      type: 'translated_transcript', text: 'Hola', timestamp: 1_770_933_604.945, is_final: true, language_detected: 'en-US',
      speaker_name: 'Dr. Smith', participant_id: 'usr_1',
    });
  });

  it('builds lk.transcription attributes', () => {
    assert.deepEqual(transcriptionAttributes('utt_1', true, 'es-ES', 'TR_x'), {
      'lk.segment_id': 'utt_1', 'lk.transcription_final': 'true', language: 'es-ES', 'lk.transcribed_track_id': 'TR_x',
    });
    assert.deepEqual(transcriptionAttributes('utt_1', false, 'en-US', undefined), { 'lk.segment_id': 'utt_1', 'lk.transcription_final': 'false', language: 'en-US' });
  });
});
