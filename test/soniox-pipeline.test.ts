import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TranslationPipeline, type PipelineEvent, type PipelineOptions } from '../src/pipeline/translation-pipeline.js';
import { sonioxMtEngine } from '../src/providers/mt/soniox.js';
import { sonioxSttEngine, sonioxSttSettings } from '../src/providers/stt/soniox.js';
import { EventRecorder, FakeTts, pcmBlocks, speechLikePcm, type PcmSegment } from '../src/providers/testing/index.js';
import { startFakeSoniox, tokens, translationTokens, type FakeSoniox } from './fakes/soniox-server.js';

/**
 * The pipeline with an engine that endpoints itself (Soniox, against its stand-in): Soniox ends an
 * utterance inside one VAD segment (`<end>`) and the VAD's end of the segment finalizes the rest
 * (`finalize` → `<fin>`), so one segment gives two utterances, each flowing transcript →
 * translation (Soniox's own, with translator `soniox`: no MT request) → speech.
 */

const API_KEY = 'soniox-pipeline-key';
const OPTIONS: PipelineOptions = {
  sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', sampleRateHz: 16000,
  vocabulary: ['Tolk'], dictionary: [{ source: 'morning', target: 'mañana' }], interim: true, final: true, translate: true,
  endpointSilenceMs: 300, maxUtteranceMs: 10_000,
};

function push(pipeline: TranslationPipeline, segments: readonly PcmSegment[]): void {
  for (const block of pcmBlocks(speechLikePcm(segments, { sampleRateHz: 16000 }), 20, 16000)) pipeline.push(block);
}

describe('pipeline with provider endpointing (soniox)', () => {
  let soniox: FakeSoniox;
  before(async () => {
    soniox = await startFakeSoniox({ apiKey: API_KEY });
  });
  after(async () => {
    await soniox.close();
  });

  it('gives one utterance per Soniox final within one VAD segment, each translated by Soniox and spoken', async () => {
    const settings = sonioxSttSettings.parse({ apiKey: API_KEY, url: soniox.url, apiUrl: soniox.apiUrl });
    const stt = await sonioxSttEngine.create(settings, { id: 'soniox' });
    const mt = await sonioxMtEngine.create({ apiKey: API_KEY, apiUrl: soniox.apiUrl, model: 'stt-rt-v5' }, { id: 'soniox' });
    const tts = new FakeTts();
    const recorder = new EventRecorder<PipelineEvent>();
    const pipeline = new TranslationPipeline({ stt, mt, tts }, OPTIONS, recorder.push);
    await pipeline.start();
    const session = await soniox.session(1);
    assert.deepEqual(session.config?.translation, { type: 'one_way', target_language: 'es' });
    assert.deepEqual(session.config?.context, { terms: ['Tolk'], translation_terms: [{ source: 'morning', target: 'mañana' }] });

    push(pipeline, [{ silenceMs: 300 }, { speechMs: 900 }]);
    await session.until((s) => s.audioBytes > 0);
    session.send(tokens('good', { language: 'en' }));
    await recorder.waitFor((e) => e.some((x) => x.type === 'transcript' && !x.final), 'an interim');
    session.send([
      ...tokens('good morning', { is_final: true, translation_status: 'original', confidence: 0.8 }),
      ...translationTokens('buenos días', 'es', 'en'),
      { text: '<end>', is_final: true },
    ]);
    await recorder.waitFor((e) => e.some((x) => x.type === 'utterance-end'), 'the first utterance out while the segment is still open');

    push(pipeline, [{ speechMs: 700 }, { silenceMs: 600 }]);
    await session.untilControl('finalize');
    session.send([
      ...tokens('how are you', { is_final: true, translation_status: 'original', startMs: 1200, continues: true }),
      ...translationTokens('cómo estás', 'es', 'en'),
      { text: '<fin>', is_final: true },
    ]);
    const events = await recorder.waitForCount((x) => x.type === 'utterance-end', 2);
    await pipeline.close();

    assert.equal(events.filter((e) => e.type === 'error').length, 0, 'no MT request: translator soniox takes Soniox\'s translation');
    const ends = events.filter((e) => e.type === 'utterance-end');
    assert.deepEqual(ends.map((e) => [e.transcript, e.translation]), [['good morning', 'buenos días'], ['how are you', 'cómo estás']]);
    assert.notEqual(ends[0]?.utteranceId, ends[1]?.utteranceId);
    assert.equal(ends[0]?.type === 'utterance-end' && ends[0].confidence, 0.8);
    for (const end of ends) {
      const own = events.filter((e) => 'utteranceId' in e && e.utteranceId === end.utteranceId).map((e) => (e.type === 'transcript' ? `transcript:${e.final}` : e.type));
      assert.deepEqual([...new Set(own)].filter((t) => t !== 'transcript:false'), ['transcript:true', 'translation', 'audio', 'utterance-end']);
    }
    assert.deepEqual(tts.calls.map((c) => c.text), ['buenos días', 'cómo estás']);
    assert.equal(session.controls.filter((c) => c.type === 'finalize').length, 1, 'one finalize: the VAD ended one segment');
  });
});
