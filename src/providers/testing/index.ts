/**
 * Fake engines for tests (docs/architecture.md "Engines" "Fakes for tests live in `providers/testing/`"): pipeline,
 * stream and room logic run against them in milliseconds, without pocketsphinx, Apertium or espeak-ng.
 */
import type { Engines } from '../registry.js';
import { FakeMt, type FakeMtOptions } from './fake-mt.js';
import { FakeStt, type FakeSttOptions } from './fake-stt.js';
import { FakeTts, type FakeTtsOptions } from './fake-tts.js';
import type { SimulatedTime } from './simulated-time.js';

export { EventRecorder, DEFAULT_WAIT_TIMEOUT_MS } from './event-recorder.js';
export { FAKE_ENGINE_MODULES, fakeMtEngine, fakeSttEngine, fakeTtsEngine } from './fake-modules.js';
export { FAKE_MT_PAIRS, FakeMt, type FakeMtCall, type FakeMtOptions } from './fake-mt.js';
export { FakeStt, FakeSttStream, type FakeSttOptions, type ScriptedUtterance, type SttScript } from './fake-stt.js';
export { FAKE_TTS_FREQUENCY_HZ, FakeTts, type FakeTtsOptions } from './fake-tts.js';
export { NO_SIMULATED_TIME, type SimulatedTime } from './simulated-time.js';
export { pcmBlocks, speechLikePcm, toneFrequencyHz, type PcmSegment, type SpeechPcmOptions } from './speech-pcm.js';

/** {@link Engines} made of fakes, typed so a test can read what each was asked. */
export interface FakeEngines extends Engines {
  stt: FakeStt;
  mt: FakeMt;
  tts: FakeTts;
}

/** Settings of {@link createFakeEngines}: one per fake, plus a clock shared by all three. */
export interface FakeEnginesOptions {
  stt?: FakeSttOptions;
  mt?: FakeMtOptions;
  tts?: FakeTtsOptions;
  /** Clock every fake advances by its simulated cost (unless its own options name another). */
  time?: SimulatedTime;
}

/** Creates a fake STT, MT and TTS (see {@link FakeStt}, {@link FakeMt}, {@link FakeTts}). */
export function createFakeEngines(options: FakeEnginesOptions = {}): FakeEngines {
  const time = options.time;
  return {
    stt: new FakeStt({ time, ...options.stt }),
    mt: new FakeMt({ time, ...options.mt }),
    tts: new FakeTts({ time, ...options.tts }),
  };
}
