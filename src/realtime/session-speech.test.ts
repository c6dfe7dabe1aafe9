import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionSpeechHub, type SessionSpeech } from './session-speech.js';

const block = (participantId: string): SessionSpeech => ({ participantId, language: 'es', pcm: Buffer.alloc(4), sampleRateHz: 16000 });

describe('SessionSpeechHub', () => {
  it('delivers a session\'s speech to its listeners only, until they unsubscribe; holds nothing', () => {
    const hub = new SessionSpeechHub();
    const heard: string[] = [];
    const stopA = hub.subscribe('sess_a', (s) => heard.push(`a:${s.participantId}`));
    hub.subscribe('sess_b', (s) => heard.push(`b:${s.participantId}`));
    hub.publish('sess_a', block('usr_1'));
    hub.publish('sess_c', block('usr_2'));
    assert.deepEqual(heard, ['a:usr_1']);
    stopA();
    stopA();
    assert.equal(hub.listenerCount('sess_a'), 0);
    hub.publish('sess_a', block('usr_3'));
    assert.deepEqual(heard, ['a:usr_1'], 'nothing after unsubscribing, and nothing kept for later');
  });

  it('a listener that throws does not stop the others or the publisher', () => {
    const hub = new SessionSpeechHub();
    const heard: string[] = [];
    hub.subscribe('sess_a', () => {
      throw new Error('broken listener');
    });
    hub.subscribe('sess_a', (s) => heard.push(s.participantId));
    assert.doesNotThrow(() => hub.publish('sess_a', block('usr_1')));
    assert.deepEqual(heard, ['usr_1']);
  });
});
