import { describe, expect, it } from 'vitest';
import { parseInterpreterMessage, parseRoomMessage } from './room-messages';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseRoomMessage', () => {
  it('reads spec 001 originals (interim and final) and translations', () => {
    expect(parseRoomMessage(bytes('{"type":"original_transcript","text":"he was","timestamp":1770933604.048,"is_final":false,"language_detected":"en-US"}'))).toEqual({
      kind: 'original', text: 'he was', isFinal: false, timestampMs: 1770933604048, languageDetected: 'en-US', speakerName: undefined,
    });
    expect(parseRoomMessage(bytes('{"type":"original_transcript","text":"he was not","timestamp":1770933604.5,"is_final":true,"language_detected":"en-US"}'))?.isFinal).toBe(true);
    expect(parseRoomMessage(bytes('{"type":"translated_transcript","text":"no era","timestamp":1770933604.9,"is_final":true,"language_detected":"en-US"}'))).toMatchObject({
      kind: 'translated', text: 'no era', isFinal: true,
    });
  });

  it('reads the speaker of spec-000 rooms', () => {
    expect(parseRoomMessage(bytes('{"type":"original_transcript","text":"hi","is_final":true,"speaker_name":"Dr. Smith","participant_id":"usr_1"}'))?.speakerName).toBe('Dr. Smith');
  });

  it('ignores what it does not understand', () => {
    for (const text of ['not json', '[]', '{"type":"something_new","text":"x"}', '{"type":"original_transcript"}', '\u00ff']) {
      expect(parseRoomMessage(bytes(text))).toBeUndefined();
    }
  });
});

describe('parseInterpreterMessage', () => {
  const message = bytes('{"type":"translated_transcript","text":"no era","timestamp":1770933604.9,"is_final":true}');
  it('reads packets the interpreter sent', () => {
    expect(parseInterpreterMessage(message, 'tolk-interpreter', 'tolk-interpreter')?.text).toBe('no era');
  });
  it('ignores the same packet from any other participant, or from no participant', () => {
    for (const sender of ['usr_1', 'tolk-interpreter-2', '', undefined]) expect(parseInterpreterMessage(message, sender, 'tolk-interpreter')).toBeUndefined();
  });
});
