import { describe, expect, it } from 'vitest';
import { parseConversationMessage, parseLiveMessage } from './messages';

describe('parseLiveMessage', () => {
  it('reads interim and final transcripts', () => {
    expect(parseLiveMessage('{"is_final":false,"original":"hel","translation":""}')).toEqual({
      kind: 'transcript', isFinal: false, original: 'hel', translation: '', utteranceId: undefined, latencyMs: undefined,
    });
    expect(parseLiveMessage('{"is_final":true,"original":"hello","translation":"hola","utterance_id":"u1","latency_ms":312}')).toEqual({
      kind: 'transcript', isFinal: true, original: 'hello', translation: 'hola', utteranceId: 'u1', latencyMs: 312,
    });
  });

  it('reads errors, in the spec 003 shape and the stream surface shape', () => {
    expect(parseLiveMessage('{"error":"Unsupported language."}')).toEqual({ kind: 'error', message: 'Unsupported language.' });
    expect(parseLiveMessage('{"error":{"code":400,"description":"Bad frame"}}')).toEqual({ kind: 'error', message: 'Bad frame' });
  });

  it('ignores what it does not understand', () => {
    for (const text of ['not json', '[]', '{"type":"something_new"}', '{"is_final":"yes"}']) expect(parseLiveMessage(text)).toBeUndefined();
  });

  it('drops a negative or non-numeric latency', () => {
    const parsed = parseLiveMessage('{"is_final":true,"original":"a","translation":"b","latency_ms":-4}');
    expect(parsed && 'latencyMs' in parsed ? parsed.latencyMs : 'missing').toBeUndefined();
  });
});

describe('parseConversationMessage', () => {
  it('reads system events', () => {
    expect(parseConversationMessage('{"type":"partner_language","lang":"es"}')).toEqual({ kind: 'partner_language', lang: 'es' });
    expect(parseConversationMessage('{"type":"user_joined","client_count":2}')).toEqual({ kind: 'presence', joined: true, clientCount: 2 });
    expect(parseConversationMessage('{"type":"user_left","client_count":1}')).toEqual({ kind: 'presence', joined: false, clientCount: 1 });
  });

  it('reads my interim and both sides of a final', () => {
    expect(parseConversationMessage('{"is_mine":true,"is_interim":true,"original":"hi","translation":""}')).toMatchObject({ isMine: true, isInterim: true, original: 'hi' });
    expect(parseConversationMessage('{"is_mine":false,"is_interim":false,"original":"hola","translation":"hello","utterance_id":"u9","latency_ms":280}')).toEqual({
      kind: 'transcript', isMine: false, isInterim: false, original: 'hola', translation: 'hello', utteranceId: 'u9', latencyMs: 280,
    });
  });
});
