import { z } from 'zod';
import { defineEngine, type EngineModule } from '../engine-module.js';
import { FakeMt } from './fake-mt.js';
import { FakeStt } from './fake-stt.js';
import { FakeTts } from './fake-tts.js';

const languages = z.array(z.string().regex(/^[a-z]{2,3}$/)).min(1).optional();

/**
 * The fake engines as engine modules (`fake-stt`, `fake-mt`, `fake-tts`), so routing configuration
 * and fallback are tested end to end with scripted failures. Not in `ENGINE_MODULES`: tests pass
 * them to `createEngines` with `modules`.
 */
export const fakeSttEngine = defineEngine({
  kind: 'stt',
  name: 'fake-stt',
  description: 'Scripted recognizer for tests',
  settings: z.strictObject({
    languages,
    /** Final text of each utterance, in order. */
    script: z.array(z.string()).default([]),
    /** 0-based utterances whose `flush` fails. */
    failUtterances: z.array(z.number().int().min(0)).default([]),
    /** Every `open` fails. */
    failOpen: z.boolean().default(false),
    sampleRateHz: z.number().int().positive().default(16000),
    apiKey: z.string().optional(),
  }),
  async create(s, context) {
    return new FakeStt({
      name: context.id, script: s.script, capabilities: { sampleRateHz: s.sampleRateHz, ...(s.languages ? { languages: s.languages } : {}) },
      openError: s.failOpen ? new Error(`${context.id} is down`) : undefined,
      flushError: (i) => (s.failUtterances.includes(i) ? new Error(`${context.id} failed utterance ${i}`) : undefined),
    });
  },
});

/** See {@link fakeSttEngine}: `fake-mt`, whose output is `[target] text`; `failAll` makes every call fail. */
export const fakeMtEngine = defineEngine({
  kind: 'mt',
  name: 'fake-mt',
  description: 'Tagging translator for tests',
  settings: z.strictObject({
    pairs: z.array(z.string().regex(/^[a-z]{2,3}-[a-z]{2,3}$/)).optional(),
    /** Text put before each translation, to tell engines apart. */
    prefix: z.string().default(''),
    failAll: z.boolean().default(false),
  }),
  async create(s, context) {
    const pairs = s.pairs?.map((p) => ({ source: p.split('-')[0] ?? '', target: p.split('-')[1] ?? '' }));
    return new FakeMt({
      name: context.id, pairs, translateText: (t) => `${s.prefix}${t}`,
      error: () => (s.failAll ? new Error(`${context.id} is down`) : undefined),
    });
  },
});

/** See {@link fakeSttEngine}: `fake-tts`, a tone per voice; `failAll` makes every request fail before audio. */
export const fakeTtsEngine = defineEngine({
  kind: 'tts',
  name: 'fake-tts',
  description: 'Tone synthesizer for tests',
  settings: z.strictObject({
    languages,
    sampleRateHz: z.number().int().positive().default(22050),
    failAll: z.boolean().default(false),
  }),
  async create(s, context) {
    return new FakeTts({
      name: context.id, capabilities: { sampleRateHz: s.sampleRateHz, ...(s.languages ? { languages: s.languages } : {}) },
      error: () => (s.failAll ? new Error(`${context.id} is down`) : undefined),
    });
  },
});

/** The three fake modules. */
export const FAKE_ENGINE_MODULES: readonly EngineModule[] = [fakeSttEngine, fakeMtEngine, fakeTtsEngine];
