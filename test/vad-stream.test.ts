import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { concatSamples } from '../src/audio/pcm.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent, type StreamAudioResult } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { createFakeEngines } from '../src/providers/testing/index.js';
import { espeakSpeech } from '../src/providers/testing/espeak-speech.js';
import { startServer, type RunningServer } from '../src/server.js';

/**
 * The VAD choice (`TOLK_VAD`) and spec 002 `features.background_voice_cancellation` through a real
 * server and socket: the fake recognizer turns every utterance the VAD sends it into a final, so the
 * finals' count and durations show where the VAD put utterances.
 */

const RATE = 16000;
/** Deterministic room noise (white plus brown), present from the first sample. */
function roomNoise(durationMs: number, seed0 = 0x1234567): Int16Array {
  let seed = seed0;
  let brown = 0;
  return Int16Array.from({ length: (RATE * durationMs) / 1000 }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const white = (seed / 0x1_0000_0000) * 2 - 1;
    brown = 0.97 * brown + 0.24 * white;
    return Math.round(white * 2500 + Math.max(-1, Math.min(1, brown)) * 5000);
  });
}
const phrase = espeakSpeech('The meeting starts at nine tomorrow morning.');
const phraseMs = (phrase.length * 1000) / RATE;
/** 3 s of noise, the phrase over the same noise, 1.5 s of noise. */
const noisy = (() => {
  const noise = roomNoise(4500 + phraseMs);
  const head = (3000 * RATE) / 1000;
  const mixed = noise.slice();
  phrase.forEach((v, i) => (mixed[head + i] = Math.max(-32768, Math.min(32767, v + (mixed[head + i] ?? 0)))));
  return mixed;
})();

type Final = Extract<ReceivedEvent, { kind: 'transcript' }>;
const finals = (r: StreamAudioResult): Final[] => r.events.filter((e): e is Final => e.kind === 'transcript' && e.final);

async function startWith(env: Record<string, string>): Promise<RunningServer & { apiKey: string }> {
  const engines = createFakeEngines({ stt: { script: () => Array.from({ length: 50 }, (_, i) => `utterance ${i + 1}`) } });
  const server = await startServer(loadConfig(env, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' }), { engines });
  return Object.assign(server, { apiKey: server.firstOwnerKey ?? '' });
}

async function stream(server: RunningServer & { apiKey: string }, samples: Int16Array, features?: Record<string, unknown>): Promise<StreamAudioResult> {
  const key = await fetchSessionKey(server.url, server.apiKey, 120);
  return streamAudio({
    url: vtUrl(server.url, key),
    config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', ...(features ? { features } : {}) },
    samples, sampleRateHz: RATE, timeoutMs: 30_000,
  });
}

describe('VAD and background_voice_cancellation on /vt', () => {
  let energy: RunningServer & { apiKey: string };
  let silero: RunningServer & { apiKey: string };
  before(async () => {
    [energy, silero] = await Promise.all([startWith({ TOLK_VAD: 'energy' }), startWith({ TOLK_VAD: 'silero' })]);
  });
  after(async () => {
    await Promise.all([energy?.close(), silero?.close()]);
  });

  it('sends the noise to the recognizer with the energy VAD and no suppression', async () => {
    const sent = finals(await stream(energy, noisy)).reduce((ms, f) => ms + f.duration, 0);
    assert.ok(sent - phraseMs > 1500, `${sent} ms sent for a ${Math.round(phraseMs)} ms phrase`);
  });

  it('with background_voice_cancellation, sends the phrase and little noise: the noise is suppressed before the VAD', async () => {
    const all = finals(await stream(energy, noisy, { background_voice_cancellation: true }));
    const longest = all.reduce((a, f) => (f.duration > a.duration ? f : a));
    assert.ok(Math.abs(longest.duration - phraseMs) < 500, `${longest.duration} ms for a ${Math.round(phraseMs)} ms phrase`);
    // RNNoise takes a few hundred ms to learn the noise at the start of a stream; that is all that passes.
    const noiseSent = all.filter((f) => f !== longest).reduce((ms, f) => ms + f.duration, 0);
    assert.ok(noiseSent < 1000, `${noiseSent} ms of noise sent`);
  });

  it('with TOLK_VAD=silero, sends only the phrase without suppression', async () => {
    const all = finals(await stream(silero, noisy));
    assert.equal(all.length, 1);
    // One utterance that holds the phrase and not the 4.5 s of noise around it. Silero ends late in
    // steady noise (docs/vad.md): up to 2.5 s of noise is let through with the phrase.
    const durationMs = all[0]?.duration ?? 0;
    assert.ok(durationMs > phraseMs - 500 && durationMs < phraseMs + 2500, `${durationMs} ms for a ${Math.round(phraseMs)} ms phrase`);
  });

  it('refuses a background_voice_cancellation that is not a boolean', async () => {
    const r = await stream(energy, concatSamples([phrase]), { background_voice_cancellation: 'yes' });
    const error = r.events.find((e) => e.kind === 'error');
    assert.ok(error && error.kind === 'error' && error.code === 400 && /background_voice_cancellation/.test(error.description), JSON.stringify(error));
  });
});
