import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeEngines } from '../providers/testing/index.js';
import { listenerLanguages, RoomFanOut, type ListenerLanguage } from './fan-out.js';

const members = [
  { id: 'a', language: 'en-US' }, { id: 'b', language: 'es-MX' }, { id: 'c', language: 'es' },
  { id: 'd', language: 'fr' }, { id: 'e', language: 'ca' },
];

describe('RoomFanOut: translate once per language, speak once per language, in order', () => {
  it('groups listeners by primary language, keeping the first tag', () => {
    const groups = listenerLanguages(members);
    assert.deepEqual([...groups.keys()], ['en', 'es', 'fr', 'ca']);
    assert.deepEqual(groups.get('es')?.language, { key: 'es', tag: 'es-MX' });
    assert.deepEqual(groups.get('es')?.members.map((m) => m.id), ['b', 'c']);
  });

  it('translates each final once per language with the pair\'s glossary; a failing language gets the original', async () => {
    const engines = createFakeEngines({ mt: { error: (call) => (call.pair.target === 'ca' ? new Error('no pair') : undefined) } });
    const dictionaryAsked: string[] = [];
    const fanOut = new RoomFanOut(engines, {
      voice: 'female', sampleRateHz: 16000,
      dictionary: async (source, target) => {
        dictionaryAsked.push(`${source}>${target}`);
        return target === 'es-MX' ? [{ source: 'copay', target: 'copago' }] : [];
      },
    });
    const languages = [...listenerLanguages(members).values()].map((g) => g.language);
    const delivered: Array<[string, string]> = [];
    const translations = await fanOut.translate({ utteranceId: 'u1', text: 'the copay is due', sourceLanguage: 'en-US' }, languages, (l, text) => delivered.push([l.key, text]));
    assert.equal(engines.mt.callsTo('es'), 1);
    assert.equal(engines.mt.callsTo('fr'), 1);
    assert.equal(engines.mt.callsTo('en'), 0, 'the speaker\'s own language needs no MT');
    assert.equal(translations.get('es'), '[es] the copago is due');
    assert.equal(translations.get('fr'), '[fr] the copay is due');
    assert.equal(translations.get('en'), 'the copay is due');
    assert.equal(translations.get('ca'), 'the copay is due', 'a failed language falls back to the original');
    assert.deepEqual(new Set(delivered.map(([k]) => k)), new Set(['en', 'es', 'fr', 'ca']));
    assert.ok(dictionaryAsked.includes('en-US>es-MX'));
  });

  it('speaks only other languages with a voice, each utterance after the previous one', async () => {
    const engines = createFakeEngines();
    const fanOut = new RoomFanOut(engines, { voice: 'male', sampleRateHz: 16000 });
    const languages: ListenerLanguage[] = [{ key: 'en', tag: 'en-US' }, { key: 'es', tag: 'es' }, { key: 'ca', tag: 'ca' }, { key: 'de', tag: 'de' }];
    const spoken = fanOut.spokenLanguages('en-US', languages);
    assert.deepEqual(spoken.map((l) => l.key), ['es', 'de'], 'not the speaker\'s language, not a language without a voice (ca)');
    const log: string[] = [];
    const sink = (utterance: string) => ({
      speech: (l: ListenerLanguage, pcm: Buffer) => {
        assert.equal(pcm.length % 2, 0);
        if (log[log.length - 1] !== `${utterance}:${l.key}`) log.push(`${utterance}:${l.key}`);
      },
      end: (l: ListenerLanguage) => log.push(`${utterance}:${l.key}:end`),
    });
    const first = fanOut.speak(new Map([['es', 'uno dos tres'], ['de', 'eins zwei drei']]), spoken, sink('u1'));
    const second = fanOut.speak(new Map([['es', 'cuatro'], ['de', 'vier']]), spoken, sink('u2'));
    await Promise.all([first, second]);
    assert.deepEqual(log, ['u1:es', 'u1:es:end', 'u1:de', 'u1:de:end', 'u2:es', 'u2:es:end', 'u2:de', 'u2:de:end']);
    assert.deepEqual(engines.tts.calls.map((c) => c.text), ['uno dos tres', 'eins zwei drei', 'cuatro', 'vier']);
  });
});
