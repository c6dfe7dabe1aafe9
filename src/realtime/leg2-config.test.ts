import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeDictionaries } from '../pipeline/glossary.js';
import { buildLeg2Config, dictionaryObject, newRequestId } from './leg2-config.js';
import { ackMessage, ackOf, dictionaryMessage, drainMessage, errorOf, leg2ConfigSchema, parseControlMessage } from './leg2-protocol.js';
import { withGlossaryWords } from './session-runtime.js';
import { conversationLeg2Config } from './linked-pipeline.js';
import type { Engines } from '../providers/registry.js';

describe('leg-2 config (spec 002 Part 3 "Initial Worker Message")', () => {
  const configDictionary = [
    { source: 'referral', target: 'référence' },
    { source: 'copay', target: 'quote-part' },
  ];
  const glossary = [
    { source: 'Referral', target: 'remisión' }, // the config wins on the same term (case-insensitive)
    { source: 'email', target: 'courriel' },
  ];

  it('has exactly the keys and nesting of Part 3, with the glossary merged and reference_id kept', () => {
    const built = buildLeg2Config({
      requestId: 'api-1775549100475-s09tq718yn8',
      client: {
        audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 },
        voice: 'female',
        transcript: { interim: true, final: true, translate: true },
        features: { background_voice_cancellation: true },
        metadata: { reference_id: 'client-reference-id', product_line: 'call_center', organization_id: 'spoofed' },
      },
      sourceLanguage: 'en-US',
      targetLanguage: 'es-ES',
      vocabulary: withGlossaryWords(['qqwqqwwq'], glossary),
      dictionary: mergeDictionaries(configDictionary, glossary),
      providers: { stt: 'pocketsphinx', translator: 'apertium', tts: 'espeak-ng' },
      organizationId: 'org_1',
      apiKeyId: 'key_1',
      sessionId: 'sess_1',
      participantId: 'usr_1',
    });
    assert.deepEqual(built, {
      request_id: 'api-1775549100475-s09tq718yn8',
      source_lang: 'en-US',
      target_lang: 'es-ES',
      audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 },
      tier: 1,
      translator: {
        provider: 'apertium',
        settings: null,
        mode: 'synchronous',
        vocabulary: ['qqwqqwwq', 'referral', 'email'],
        dictionary: { referral: 'référence', copay: 'quote-part', email: 'courriel' },
      },
      stt: {
        provider: 'pocketsphinx',
        settings: null,
        interim: true,
        final: true,
        translate: true,
        vocabulary: ['qqwqqwwq', 'referral', 'email'],
      },
      tts: { provider: 'espeak-ng', settings: null, voice: { id: 'female', speed: 1, settings: null } },
      features: { background_voice_cancellation: true },
      metadata: {
        reference_id: 'client-reference-id', product_line: 'call_center',
        organization_id: 'org_1', api_key_id: 'key_1', session_id: 'sess_1', participant_id: 'usr_1',
      },
    });
    // Key order as in the spec's example (a reader of the JSON sees the documented layout).
    assert.deepEqual(Object.keys(built), ['request_id', 'source_lang', 'target_lang', 'audio', 'tier', 'translator', 'stt', 'tts', 'features', 'metadata']);
    assert.ok(leg2ConfigSchema.safeParse(JSON.parse(JSON.stringify(built))).success, 'the worker accepts what the gateway builds');
    assert.ok(!JSON.stringify(built).includes('api_key"'), 'the client key is never forwarded');
  });

  it('defaults: no features, no metadata, no session; a tier from the admission check', () => {
    const built = buildLeg2Config({
      requestId: newRequestId(0),
      client: { audio: { format: 'pcm_s16le', sample_rate: 8000, channels: 1 }, voice: 'male', transcript: { interim: false, final: true, translate: false } },
      sourceLanguage: 'en-US', targetLanguage: 'ca-ES', vocabulary: [], dictionary: [],
      providers: { stt: 's', translator: 't', tts: 'v' }, tier: 3, organizationId: 'org_2', apiKeyId: 'key_2',
    });
    assert.match(built.request_id, /^api-0-[0-9a-z]{11}$/);
    assert.equal(built.tier, 3);
    assert.deepEqual(built.features, {});
    assert.deepEqual(built.metadata, { organization_id: 'org_2', api_key_id: 'key_2' });
    assert.deepEqual(built.translator.dictionary, {});
    assert.equal(built.stt.translate, false);
  });

  it('a conversation room speaker: recognition only (translator.mode none), no organization, the conversation id', () => {
    const engines = { stt: { name: 'pocketsphinx' }, mt: { name: 'apertium' }, tts: { name: 'espeak-ng' } } as unknown as Engines;
    const built = conversationLeg2Config(engines, {
      conversationId: 'c0nv', sourceLanguage: 'en-US', targetLanguage: 'en-US', voice: 'female', sampleRateHz: 16000, translatorMode: 'none',
    });
    assert.equal(built.translator.mode, 'none');
    assert.deepEqual(built.stt, { provider: 'pocketsphinx', settings: null, interim: true, final: true, translate: false, vocabulary: [] });
    assert.deepEqual(built.metadata, { conversation_id: 'c0nv' });
    assert.ok(leg2ConfigSchema.safeParse(JSON.parse(JSON.stringify(built))).success);
    assert.equal(leg2ConfigSchema.safeParse({ ...built, translator: { ...built.translator, mode: 'streaming' } }).success, false, 'a mode no worker runs is refused');
    const single = conversationLeg2Config(engines, { sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'male', sampleRateHz: 48000, translatorMode: 'synchronous' });
    assert.equal(single.translator.mode, 'synchronous');
    assert.equal(single.stt.translate, true);
    assert.equal(single.audio.sample_rate, 48000);
    assert.deepEqual(single.metadata, {});
  });

  it('dictionaryObject keeps the first entry of a source term', () => {
    assert.deepEqual(dictionaryObject([{ source: ' a ', target: '1' }, { source: 'a', target: '2' }, { source: '', target: 'x' }]), { a: '1' });
  });
});

describe('leg-2 messages', () => {
  it('round-trips the ack and control frames (the events: leg2-events.test.ts)', () => {
    assert.deepEqual(ackOf(ackMessage('api-1', 'wrk_1')), { requestId: 'api-1', workerId: 'wrk_1' });
    assert.equal(ackOf('{"transcript":{}}'), undefined);
    assert.equal(ackOf('not json'), undefined);
    assert.deepEqual(parseControlMessage(drainMessage(2000)), { type: 'drain', timeoutMs: 2000 });
    assert.deepEqual(parseControlMessage(dictionaryMessage({ a: 'b' })), { type: 'dictionary', dictionary: { a: 'b' } });
    assert.deepEqual(parseControlMessage('{"nope":1}'), { type: 'unknown' });
    assert.deepEqual(errorOf('{"error":{"code":429,"reason":"Too Many Requests","description":"full"}}'), { status: 429, description: 'full' });
    assert.equal(errorOf('{"ack":{}}'), undefined);
  });
});
