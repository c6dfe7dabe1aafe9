import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeEngines, speechLikePcm } from '../providers/testing/index.js';
import type { SttProvider, SttStream, SttTranscript } from '../providers/stt/types.js';
import { conversationLeg2Config } from './linked-pipeline.js';
import { RealtimeBudget, type CostMeter } from './realtime-budget.js';
import type { WorkerEvent } from './worker-link.js';
import { WorkerStream } from './worker-stream.js';

/** A meter whose counters the test sets: CPU time and audio decoded, in ms. */
function meter(): CostMeter & { cpu: number; audio: number; loads: number } {
  const m = { cpu: 0, audio: 0, loads: 0, cpuMs: () => m.cpu, audioMs: () => m.audio, otherWork: () => m.loads };
  return m;
}

describe('RealtimeBudget', () => {
  it('admits streams while cores × utilisation ÷ the measured cost allows, never past TOLK_MAX_STREAMS', () => {
    const m = meter();
    const budget = new RealtimeBudget({ cores: 2, targetUtilisation: 0.8, maxStreams: 32 }, m);
    assert.equal(budget.capacity, 32, 'no measurement yet: the hard bound alone');
    budget.calibrated(0.2); // 1.6 CPU s per s ÷ 0.2 = 8 streams
    assert.equal(budget.capacity, 8);
    assert.deepEqual(budget.admit(7), { ok: true });
    const refused = budget.admit(8);
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.description, /^Max concurrent connections exceeded: this server's real-time budget is spent \(8 streams at 0\.20 CPU s per audio s on 2 cores × 0\.8\)/);
    assert.equal(budget.report(8).refused, 1);
    const small = new RealtimeBudget({ cores: 2, targetUtilisation: 0.8, maxStreams: 4 }, m);
    small.calibrated(0.2);
    assert.equal(small.capacity, 4);
    assert.match(String(small.refusal(4)), /^Max concurrent connections exceeded \(4\)$/);
  });

  it('follows the measured cost: a moving average of CPU time per audio second over windows of enough audio', () => {
    const m = meter();
    const budget = new RealtimeBudget({ cores: 2, targetUtilisation: 1, maxStreams: 100 }, m, { windowAudioMs: 5000, smoothing: 0.5 });
    budget.calibrated(0.2);
    assert.equal(budget.capacity, 10);
    m.audio += 4000;
    m.cpu += 4000; // 1 CPU s per audio s, but under a window: not yet counted
    assert.equal(budget.capacity, 10);
    m.audio += 1000;
    m.cpu += 1000; // window of 5 s at 1.0: average (0.2 + 1.0) / 2 = 0.6
    assert.equal(budget.report(0).costPerAudioS, 0.6);
    assert.equal(budget.capacity, 3);
    m.audio += 5000;
    m.cpu += 1000; // 0.2 again: (0.6 + 0.2) / 2 = 0.4 → 5 streams
    assert.equal(budget.capacity, 5);
    m.loads++; // a recognizer was loaded: that window's CPU is not decoding
    m.audio += 5000;
    m.cpu += 50_000;
    assert.equal(budget.capacity, 5);
    assert.ok(Math.abs((budget.report(0).costPerAudioS ?? 0) - 0.4) < 1e-9);
  });

  it('refuses every stream while warming up, saying what it waits for, and admits once warm', () => {
    const budget = new RealtimeBudget({ cores: 2, targetUtilisation: 0.8, maxStreams: 32 }, meter());
    budget.warming(['a loaded speech recognizer', "the measurement of the recognizer's CPU cost"]);
    assert.equal(budget.capacity, 0, 'a warming process announces no capacity');
    const refused = budget.admit(0);
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? '' : refused.description,
      "Max concurrent connections exceeded: this server is warming up (waiting for a loaded speech recognizer, the measurement of the recognizer's CPU cost); try again in 2 s");
    budget.warmedUp('a loaded speech recognizer');
    assert.deepEqual(budget.report(0).waitingFor, ["the measurement of the recognizer's CPU cost"]);
    budget.calibrated(0.2);
    budget.warmedUp("the measurement of the recognizer's CPU cost");
    assert.deepEqual(budget.admit(0), { ok: true });
    assert.equal(budget.capacity, 8);
  });

  it('refuses a stream that needs a new recognizer when loading one would pass the memory budget', () => {
    const memory = { rss: 400, ready: 0, residentMb: () => memory.rss, mbPerStream: () => 90, readyRecognizers: () => memory.ready };
    const budget = new RealtimeBudget({ cores: 2, targetUtilisation: 0.8, maxStreams: 32, memoryBudgetMb: 500 }, meter(), { memory });
    budget.calibrated(0.2);
    assert.deepEqual(budget.admit(1), { ok: true }, '400 + 90 MB fits in 500');
    memory.rss = 450;
    const refused = budget.admit(1);
    assert.equal(refused.ok ? '' : refused.description,
      "Max concurrent connections exceeded: this server's memory budget is spent (450 MB resident, a stream needs ~90 MB more, TOLK_MEMORY_BUDGET_MB 500); try again shortly");
    memory.ready = 1; // an idle recognizer: the stream takes it and adds nothing
    assert.deepEqual(budget.admit(1), { ok: true });
  });

  it('refuses a stream at once when the streams opening take every idle recognizer and the one load it may wait for, and loads one for its retry', () => {
    const memory = { ready: 2, loads: 0, residentMb: () => 400, mbPerStream: () => 90, readyRecognizers: () => memory.ready, loadingRecognizers: () => 0, loadAhead: () => void memory.loads++ };
    const budget = new RealtimeBudget({ cores: 2, targetUtilisation: 0.8, maxStreams: 32 }, meter(), { memory });
    budget.calibrated(0.2);
    assert.equal(budget.recognizerShortage(0), undefined);
    assert.equal(budget.recognizerShortage(2), undefined, 'two take the idle ones, a third may wait for one to load');
    assert.equal(budget.recognizerShortage(3), "Max concurrent connections exceeded: this server is loading speech recognizers for the streams that just arrived; try again in 2 s");
    assert.equal(memory.loads, 1, 'one more recognizer is loaded for the refused stream\'s retry');
  });
});

/** A recognizer that takes audio and never decodes it: everything pushed stays pending. */
function stalledStt(base: SttProvider): SttProvider {
  return {
    name: base.name, capabilities: base.capabilities, close: async () => {},
    open: async (): Promise<SttStream> => {
      let pending = 0;
      const never = new Promise<IteratorResult<SttTranscript>>(() => {});
      return {
        get pendingMs() {
          return (pending * 1000) / base.capabilities.sampleRateHz;
        },
        push: (samples) => void (pending += samples.length),
        flush: () => new Promise(() => {}),
        close: async () => {},
        [Symbol.asyncIterator]: () => ({ next: () => never }),
      };
    },
  };
}

async function shedStream(): Promise<{ stream: WorkerStream; events: WorkerEvent[]; ends: number[]; sheds: () => number }> {
  const fakes = createFakeEngines();
  const engines = { ...fakes, stt: stalledStt(fakes.stt) };
  const config = conversationLeg2Config(engines, { sourceLanguage: 'en-US', targetLanguage: 'es', voice: 'female', sampleRateHz: 16000, translatorMode: 'synchronous' });
  const events: WorkerEvent[] = [];
  const ends: number[] = [];
  let shed = 0;
  const stream = new WorkerStream(engines, config, { endpointSilenceMs: 300, maxUtteranceMs: 10_000, maxBacklogMs: 2000, onShed: () => shed++ }, {
    event: (e) => events.push(e), audio: () => {}, end: (code) => ends.push(code),
  });
  await stream.start();
  return { stream, events, ends, sheds: () => shed };
}

const pcm = (samples: Int16Array): Buffer => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);

describe('shedding a stream that falls behind real time', () => {
  it('a real-time client whose recognizer stays over 2 s behind gets error 429 and close 4429', async () => {
    const s = await shedStream();
    const speech = speechLikePcm([{ speechMs: 3000 }], { sampleRateHz: 16000 });
    // The first audio arrived 10 s ago and 3 s of it since: the client is not ahead of real time.
    s.stream.pushAudio(pcm(speech.subarray(0, 1600)), Date.now() - 10_000);
    assert.deepEqual(s.ends, []);
    s.stream.pushAudio(pcm(speech.subarray(1600)));
    // Not at once (audio kept while a stream opens arrives together): once it stays behind.
    assert.deepEqual(s.ends, []);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => s.ends.length > 0 && (clearInterval(poll), resolve()), 50);
    });
    assert.deepEqual(s.ends, [4429]);
    assert.equal(s.sheds(), 1);
    const error = s.events.find((e) => e.type === 'error');
    assert.equal(error?.type === 'error' ? error.status : 0, 429);
    assert.match(error?.type === 'error' ? error.description : '', /overloaded and fell [23]\.\d s behind this stream's audio/);
  });

  it('a client sending faster than real time (a file) is left to flow control, not shed', async () => {
    const s = await shedStream();
    s.stream.pushAudio(pcm(speechLikePcm([{ speechMs: 8000 }], { sampleRateHz: 16000 })));
    assert.ok(s.stream.backlogMs > 2000);
    assert.deepEqual(s.ends, []);
    assert.equal(s.sheds(), 0);
    await s.stream.close();
  });
});
