import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { S16leDecoder } from '../audio/pcm.js';
import {
  createFakeEngines, EventRecorder, pcmBlocks, speechLikePcm, toneFrequencyHz,
  type FakeEngines, type FakeEnginesOptions, type PcmSegment, type SimulatedTime,
} from '../providers/testing/index.js';
import type { VoiceName } from '../providers/tts/types.js';
import type { DictionaryEntry } from './glossary.js';
import { TranslationPipeline, type PipelineEvent, type PipelineOptions } from './translation-pipeline.js';

/**
 * The pipeline (docs/architecture.md "The pipeline") driven like a pipecat processor test: audio in, the events out, in order.
 * Real energy VAD and resamplers, fake engines; `Date` is mocked so the latency marks (which the
 * pipeline reads from `Date.now`) are exact: audio advances it by its duration, each fake by its cost.
 */

const T0 = Date.UTC(2025, 0, 1);
const BLOCK_MS = 20;
const time: SimulatedTime = { advance: (ms) => mock.timers.tick(ms) };

const OPTIONS: PipelineOptions = {
  sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', sampleRateHz: 16000,
  vocabulary: [], dictionary: [], interim: true, final: true, translate: true,
  endpointSilenceMs: 300, maxUtteranceMs: 10_000,
};

/** Two utterances (800 and 600 ms of speech), each ended by a pause longer than the endpoint. */
const TWO_UTTERANCES: readonly PcmSegment[] = [
  { silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 600 }, { speechMs: 600 }, { silenceMs: 600 },
];
const ONE_UTTERANCE: readonly PcmSegment[] = [{ silenceMs: 300 }, { speechMs: 800 }, { silenceMs: 600 }];

interface Harness {
  engines: FakeEngines;
  recorder: EventRecorder<PipelineEvent>;
  pipeline: TranslationPipeline;
  /** Sends audio as a client does: one block per BLOCK_MS of (mocked) time, the event loop running between blocks. */
  speak(segments: readonly PcmSegment[]): Promise<void>;
}

const running: TranslationPipeline[] = [];

async function startPipeline(setup: { engines?: FakeEnginesOptions; options?: Partial<PipelineOptions> } = {}): Promise<Harness> {
  const engines = createFakeEngines({ time, ...setup.engines });
  const options = { ...OPTIONS, ...setup.options };
  const recorder = new EventRecorder<PipelineEvent>();
  const pipeline = new TranslationPipeline(engines, options, recorder.push);
  await pipeline.start();
  running.push(pipeline);
  const speak = async (segments: readonly PcmSegment[]): Promise<void> => {
    const pcm = speechLikePcm(segments, { sampleRateHz: options.sampleRateHz });
    for (const block of pcmBlocks(pcm, BLOCK_MS, options.sampleRateHz)) {
      mock.timers.tick(BLOCK_MS);
      pipeline.push(block);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  return { engines, recorder, pipeline, speak };
}

/** One line per event; consecutive audio blocks collapse into one `audio` line. */
function trace(events: readonly PipelineEvent[]): string[] {
  const lines: string[] = [];
  for (const e of events) {
    const line = e.type === 'transcript' ? `${e.final ? 'final' : 'interim'}: ${e.text}`
      : e.type === 'translation' ? `translation: ${e.text}`
      : e.type === 'utterance-end' ? `end: ${e.transcript} → ${e.translation}`
      : e.type === 'error' ? `error ${e.status}: ${e.description}`
      : 'audio';
    if (line !== 'audio' || lines.at(-1) !== 'audio') lines.push(line);
  }
  return lines;
}

function ofType<K extends PipelineEvent['type']>(events: readonly PipelineEvent[], type: K): Array<Extract<PipelineEvent, { type: K }>> {
  return events.filter((e): e is Extract<PipelineEvent, { type: K }> => e.type === type);
}

const isEnd = (e: PipelineEvent): boolean => e.type === 'utterance-end';

beforeEach(() => {
  mock.timers.enable({ apis: ['Date'], now: T0 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.close(0)));
  mock.timers.reset();
});

describe('TranslationPipeline with fake engines (docs/architecture.md "The pipeline")', () => {
  it('emits interims, one final per utterance with the scripted text, then its translation, speech and end', async () => {
    const h = await startPipeline({ engines: { stt: { script: ['hello there world', 'how are you'] } } });
    await h.speak(TWO_UTTERANCES);
    const events = await h.recorder.waitForCount(isEnd, 2);
    assert.deepEqual(trace(events), [
      'interim: hello', 'interim: hello there', 'interim: hello there world',
      'final: hello there world', 'translation: [es] hello there world', 'audio',
      'end: hello there world → [es] hello there world',
      'interim: how', 'interim: how are', 'interim: how are you',
      'final: how are you', 'translation: [es] how are you', 'audio',
      'end: how are you → [es] how are you',
    ]);
    const ids = ofType(events, 'utterance-end').map((e) => e.utteranceId);
    assert.equal(new Set(ids).size, 2);
    const byId = (id: string | undefined): string[] => trace(events.filter((e) => e.type !== 'error' && e.utteranceId === id));
    assert.deepEqual([...byId(ids[0]), ...byId(ids[1])], trace(events));
    assert.equal(h.engines.mt.callsTo('es'), 2);
  });

  it('marks latency in stage order, each stage adding its engine time, with the STT confidence', async () => {
    const h = await startPipeline({
      engines: {
        stt: { script: [{ text: 'hello there world', confidence: 0.87 }, 'how are you'], flushCostMs: 30 },
        mt: { costMs: 20 },
        tts: { firstBlockCostMs: 10 },
      },
    });
    await h.speak(TWO_UTTERANCES);
    const ends = ofType(await h.recorder.waitForCount(isEnd, 2), 'utterance-end');
    for (const { latency } of ends) {
      assert.ok(latency.endpointMs >= 300 && latency.endpointMs <= 300 + BLOCK_MS, `endpoint ${latency.endpointMs} ms`);
      assert.equal(latency.finalTranscriptMs - latency.endpointMs, 30);
      assert.equal(latency.translationMs - latency.finalTranscriptMs, 20);
      assert.equal((latency.firstAudioByteMs ?? -1) - latency.translationMs, 10);
    }
    assert.deepEqual(ends.map((e) => e.confidence), [0.87, null]);
    const translations = ofType(h.recorder.events, 'translation');
    assert.deepEqual(translations.map((t) => t.latencyMs), ends.map((e) => e.latency.translationMs));
  });

  it("sends the synthesized speech at the stream's sample rate, in the chosen voice", async () => {
    const voices: VoiceName[] = ['female', 'male'];
    for (const voice of voices) {
      const h = await startPipeline({ engines: { stt: { script: ['hello there world'] } }, options: { sampleRateHz: 24000, voice } });
      await h.speak(ONE_UTTERANCE);
      const events = await h.recorder.waitForCount(isEnd, 1);
      const pcm = new S16leDecoder().decode(Buffer.concat(ofType(events, 'audio').map((a) => a.pcm)));
      const expected = (h.engines.tts.durationMs('[es] hello there world') * 24000) / 1000;
      // Within 1 ms: the egress resampler's flush adds its filter tail.
      assert.ok(pcm.length >= expected && pcm.length <= expected + 24, `${pcm.length} samples, expected ${expected}`);
      const hz = toneFrequencyHz(pcm.subarray(240, -240), 24000); // 10 ms edges: the resampler rings there
      assert.ok(Math.abs(hz - h.engines.tts.frequencyOf(voice)) < 2, `${voice}: ${hz} Hz`);
      assert.deepEqual(h.engines.tts.calls.map((c) => c.request), [{ language: 'es-ES', voice }]);
    }
  });

  it("mode 'recognize' emits transcripts and utterance-end only: nothing is translated or spoken", async () => {
    const h = await startPipeline({ engines: { stt: { script: ['hello there world'], confidence: 0.5 } }, options: { mode: 'recognize' } });
    await h.speak(ONE_UTTERANCE);
    const events = await h.recorder.waitForCount(isEnd, 1);
    assert.deepEqual(trace(events), [
      'interim: hello', 'interim: hello there', 'interim: hello there world',
      'final: hello there world', 'end: hello there world → ',
    ]);
    assert.equal(ofType(events, 'utterance-end')[0]?.confidence, 0.5);
    assert.equal(h.engines.mt.calls.length, 0);
    assert.equal(h.engines.tts.calls.length, 0);
  });

  it('enforces a dictionary term: the MT sees a slot, the translation says the target term', async () => {
    const dictionary = [{ source: 'copay', target: 'quote-part' }];
    const h = await startPipeline({ engines: { stt: { script: ['the Copay is due'] } }, options: { dictionary, interim: false } });
    await h.speak(ONE_UTTERANCE);
    const events = await h.recorder.waitForCount(isEnd, 1);
    assert.equal(ofType(events, 'translation')[0]?.text, '[es] the quote-part is due');
    assert.deepEqual(h.engines.mt.calls[0]?.input, ['the ', { slot: 0 }, ' is due']);
    assert.equal(h.engines.tts.calls[0]?.text, '[es] the quote-part is due');
  });

  it('keeps a dictionary term the MT engine dropped, and reads a live dictionary before each utterance', async () => {
    const live: DictionaryEntry[] = [];
    const h = await startPipeline({
      engines: { stt: { script: ['the copay is due', 'the copay again'] }, mt: { dropSlots: true } },
      options: { dictionary: async () => live, interim: false },
    });
    await h.speak(ONE_UTTERANCE);
    await h.recorder.waitForCount(isEnd, 1);
    live.push({ source: 'copay', target: 'quote-part' });
    await h.speak(ONE_UTTERANCE);
    const events = await h.recorder.waitForCount(isEnd, 2);
    assert.deepEqual(ofType(events, 'translation').map((t) => t.text), ['[es] the copay is due', '[es] the again quote-part']);
  });

  it('drops an utterance that held no words: no events, and the next one is unaffected', async () => {
    const h = await startPipeline({ engines: { stt: { script: ['', 'how are you'] } } });
    await h.speak(TWO_UTTERANCES);
    const events = await h.recorder.waitForCount(isEnd, 1);
    assert.equal(h.engines.stt.streams[0]?.finals.length, 2);
    assert.deepEqual(trace(events).slice(0, 4), ['interim: how', 'interim: how are', 'interim: how are you', 'final: how are you']);
  });

  it('an STT flush failure emits one error event, stops the stream and does not crash', async () => {
    const cause = new Error('decoder lost');
    const h = await startPipeline({ engines: { stt: { script: ['hello there world', 'how are you'], flushError: (i) => (i === 0 ? cause : undefined) } } });
    await h.speak(TWO_UTTERANCES);
    const events = await h.recorder.waitForCount((e) => e.type === 'error', 1);
    await h.pipeline.close(1000);
    assert.deepEqual(trace(events), [
      'interim: hello', 'interim: hello there', 'interim: hello there world',
      'error 500: Server failed to process the audio stream',
    ]);
    assert.equal(ofType(events, 'error')[0]?.cause, cause);
    assert.equal(h.engines.stt.streams[0]?.closed, true);
    assert.equal(h.engines.mt.calls.length, 0);
  });

  it('an MT failure after the final emits an error event instead of a translation', async () => {
    const h = await startPipeline({ engines: { stt: { script: ['hello there world'] }, mt: { error: () => new Error('mt down') } }, options: { interim: false } });
    await h.speak(ONE_UTTERANCE);
    const events = await h.recorder.waitForCount((e) => e.type === 'error', 1);
    assert.deepEqual(trace(events), ['final: hello there world', 'error 500: Server failed to process the audio stream']);
  });

  it('close() ends the utterance in progress and still delivers its events', async () => {
    const h = await startPipeline({ engines: { stt: { script: ['hello there world'] } }, options: { interim: false } });
    await h.speak([{ silenceMs: 300 }, { speechMs: 800 }]);
    assert.equal(h.recorder.events.length, 0);
    await h.pipeline.close(1000);
    assert.deepEqual(trace(h.recorder.events), [
      'final: hello there world', 'translation: [es] hello there world', 'audio', 'end: hello there world → [es] hello there world',
    ]);
  });
});
