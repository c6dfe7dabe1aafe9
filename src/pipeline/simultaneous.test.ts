import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createFakeEngines, EventRecorder, pcmBlocks, speechLikePcm, type SimulatedTime, type SttScript } from '../providers/testing/index.js';
import { SegmentCommitter } from './simultaneous.js';
import { segmentSpeed } from './simultaneous-speech.js';
import { TranslationPipeline, type PipelineEvent, type PipelineOptions } from './translation-pipeline.js';

describe('SegmentCommitter (docs/stream-protocol.md "Simultaneous mode")', () => {
  it('commits only what two successive hypotheses agree on, cut before a clause-opening word', () => {
    const c = new SegmentCommitter({ minSegmentWords: 3, maxSegmentWords: 8 });
    assert.equal(c.hypothesis('he was not an'), undefined);
    assert.equal(c.hypothesis('he was not and ill'), undefined, 'no clause-opening word agreed on yet');
    assert.equal(c.hypothesis('he was not an ill disposed man and'), undefined, '"an" was revised: only "he was not" agrees');
    assert.equal(c.hypothesis('he was not an ill disposed man and rather'), 'he was not an ill disposed man');
    assert.equal(c.committedText, 'he was not an ill disposed man');
    assert.equal(c.hypothesis('he was not an ill disposed man and rather cold'), undefined, '"and rather" waits for more');
  });

  it('goes on after the hypotheses revised a committed word: the new words realign after the committed last word', () => {
    const c = new SegmentCommitter({ minSegmentWords: 2, maxSegmentWords: 3 });
    c.hypothesis('the cat sat on');
    assert.equal(c.hypothesis('the cat sat on the'), 'the cat sat');
    c.hypothesis('a cat sat on the mat and');
    assert.equal(c.hypothesis('a cat sat on the mat and then'), 'on the mat', 'committed after "sat", where the revised hypothesis realigns');
    assert.equal(c.committedText, 'the cat sat on the mat');
    assert.equal(c.hypothesis('a cat sat on the mat and then'), undefined);
    assert.deepEqual(c.final('a cat sat on the mat and then slept'), { transcript: 'the cat sat on the mat and then slept', remainder: 'and then slept' });
  });

  it('realigns on the committed last two words when a revision moved them further than three words', () => {
    const c = new SegmentCommitter({ minSegmentWords: 2, maxSegmentWords: 3 });
    c.hypothesis('the cat sat on');
    assert.equal(c.hypothesis('the cat sat on the'), 'the cat sat');
    c.hypothesis('oh well you know a cat sat on the mat and');
    assert.equal(c.hypothesis('oh well you know a cat sat on the mat and then'), 'on the mat');
    assert.equal(c.committedText, 'the cat sat on the mat');
  });

  it('cuts at the longest agreed run of maxSegmentWords without a boundary; a pause commits all that is stable', () => {
    const c = new SegmentCommitter({ minSegmentWords: 3, maxSegmentWords: 4 });
    c.hypothesis('one two three four five six');
    assert.equal(c.hypothesis('one two three four five six seven'), 'one two three four');
    assert.equal(c.pause(), 'five six');
    assert.equal(c.pause(), undefined);
  });

  it('never commits past a word the hypotheses took back, and the final keeps the committed words', () => {
    const c = new SegmentCommitter({ minSegmentWords: 2, maxSegmentWords: 3 });
    c.hypothesis('the cat sat on');
    assert.equal(c.hypothesis('the cat sat on the'), 'the cat sat');
    assert.equal(c.hypothesis('a cat sat on the mat'), undefined, 'a committed word was revised: "on the" is placed after "sat", one word is not a segment');
    assert.deepEqual(c.final('a cat sat on the mat'), { transcript: 'the cat sat on the mat', remainder: 'on the mat' });
    const d = new SegmentCommitter({ minSegmentWords: 2, maxSegmentWords: 3 });
    d.hypothesis('the cat sat on');
    d.hypothesis('the cat sat on the');
    assert.deepEqual(d.final('the cat is sat on the mat'), { transcript: 'the cat sat on the mat', remainder: 'on the mat' }, 'realigned on the last committed word');
    assert.deepEqual(new SegmentCommitter().final('Hello there.'), { transcript: 'Hello there.', remainder: 'Hello there.' });
  });
});

describe('segmentSpeed', () => {
  it('speaks at the engine\'s rate until a quarter second is queued, then 40 % faster per further second, at most 1.6×', () => {
    assert.deepEqual([0, 250, 500, 1500, 3000, 10_000].map(segmentSpeed), [1, 1, 1.1, 1.5, 1.6, 1.6]);
  });
});

const T0 = Date.UTC(2025, 0, 1);
const BLOCK_MS = 20;
const time: SimulatedTime = { advance: (ms) => mock.timers.tick(ms) };
const OPTIONS: PipelineOptions = {
  sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', sampleRateHz: 16000,
  vocabulary: [], dictionary: [], interim: false, final: true, translate: true,
  endpointSilenceMs: 300, maxUtteranceMs: 10_000,
};
const running: TranslationPipeline[] = [];

/** Speaks one 3-second utterance (the fake recognizer reveals a word per 200 ms) and returns the events, one line each. */
async function run(script: SttScript, options: Partial<PipelineOptions>): Promise<string[]> {
  const engines = createFakeEngines({ time, stt: { script } });
  const recorder = new EventRecorder<PipelineEvent>();
  const pipeline = new TranslationPipeline(engines, { ...OPTIONS, ...options }, recorder.push);
  await pipeline.start();
  running.push(pipeline);
  const pcm = speechLikePcm([{ silenceMs: 300 }, { speechMs: 3000 }, { silenceMs: 600 }], { sampleRateHz: 16000 });
  for (const block of pcmBlocks(pcm, BLOCK_MS, 16000)) {
    mock.timers.tick(BLOCK_MS);
    pipeline.push(block);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const events = await recorder.waitForCount((e) => e.type === 'utterance-end', 1);
  const lines: string[] = [];
  for (const e of events) {
    const line = e.type === 'transcript' ? `final: ${e.text}`
      : e.type === 'translation' ? `translation ${e.final ? 'final' : 'interim'}: ${e.text} (${e.transcript})`
      : e.type === 'utterance-end' ? `end: ${e.transcript} → ${e.translation}`
      : e.type === 'error' ? `error: ${e.description}` : 'audio';
    if (line !== 'audio' || lines.at(-1) !== 'audio') lines.push(line);
  }
  return lines;
}

describe('TranslationPipeline in simultaneous mode, fake engines', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: T0 }));
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.close(0)));
    mock.timers.reset();
  });

  const SENTENCE = 'the man who came here yesterday said he was tired and went home';

  it('speaks a committed segment before the final, sends its translation as final: false, then speaks only the rest', async () => {
    assert.deepEqual(await run([SENTENCE], { simultaneous: true }), [
      'translation interim: [es] the man who came here yesterday said he (the man who came here yesterday said he)',
      'audio',
      // The VAD's short pause before the endpoint commits every stable word.
      'translation interim: [es] the man who came here yesterday said he [es] was tired and went (the man who came here yesterday said he was tired and went)',
      'audio',
      `final: ${SENTENCE}`,
      `translation final: [es] ${SENTENCE} (${SENTENCE})`,
      'audio',
      `end: ${SENTENCE} → [es] ${SENTENCE}`,
    ]);
  });

  it('without the option: no final: false translation, speech only after the final (as before)', async () => {
    assert.deepEqual(await run([SENTENCE], {}), [
      `final: ${SENTENCE}`, `translation final: [es] ${SENTENCE} (${SENTENCE})`, 'audio', `end: ${SENTENCE} → [es] ${SENTENCE}`,
    ]);
  });

  it('the final transcript keeps the committed words when the recognizer revises them', async () => {
    const interims = ['a', 'a big', 'a big dog', 'a big dog ran', 'a big dog ran fast', 'a big dog ran fast but', 'a big dog ran fast but then'];
    const lines = await run([{ text: 'the big dog ran fast but then it stopped', interims }], { simultaneous: true, translate: false });
    assert.deepEqual(lines, ['audio', 'final: a big dog ran fast but then it stopped', 'audio', 'end: a big dog ran fast but then it stopped → [es] a big dog ran fast but then it stopped']);
  });
});
