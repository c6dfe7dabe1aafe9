import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { StreamingResampler } from '../src/audio/resampler.js';
import { sonioxSttEngine, sonioxSttSettings } from '../src/providers/stt/soniox.js';
import type { SttTranscript } from '../src/providers/stt/types.js';
import { pcmBlocks } from '../src/providers/testing/index.js';
import { librivoxRecordings, loadWav, wordErrors } from './helpers.js';

/**
 * The `soniox` STT engine against the real Soniox service (docs/architecture.md "Engines": cloud engines are tested
 * against the real service only when its key is set). Needs SONIOX_API_KEY (and optionally
 * SONIOX_URL, SONIOX_API_URL); reported as skipped without it. Streams a LibriVox recording at
 * real-time pace (Soniox requires a real-time cadence) and checks the word error rate of the finals.
 */
const apiKey = process.env.SONIOX_API_KEY;

describe('soniox against the real service', { skip: apiKey ? false : 'SONIOX_API_KEY is not set' }, () => {
  it('transcribes a LibriVox recording with its own endpointing, below 25% WER', async () => {
    const settings = sonioxSttSettings.parse({
      apiKey, ...(process.env.SONIOX_URL ? { url: process.env.SONIOX_URL } : {}), ...(process.env.SONIOX_API_URL ? { apiUrl: process.env.SONIOX_API_URL } : {}),
    });
    const stt = await sonioxSttEngine.create(settings, { id: 'soniox' });
    const recording = librivoxRecordings().find((r) => r.id.endsWith('0930'));
    assert.ok(recording, 'pocketsphinx-testdata is installed');
    const wav = loadWav(recording.path);
    const samples = new StreamingResampler(wav.sampleRateHz, stt.capabilities.sampleRateHz).process(wav.samples);
    const stream = await stt.open({ language: 'en-US' });
    const finals: SttTranscript[] = [];
    const consumer = (async () => {
      for await (const t of stream) if (t.type === 'final') finals.push(t);
    })();
    for (const block of pcmBlocks(samples, 100, stt.capabilities.sampleRateHz)) {
      stream.push(block);
      await sleep(100);
    }
    await stream.flush();
    await stream.close();
    await consumer;
    await stt.close();
    const hypothesis = finals.map((f) => f.text).join(' ');
    const { errors, words } = wordErrors(recording.reference, hypothesis);
    assert.ok(errors / words < 0.25, `WER ${(100 * errors / words).toFixed(1)}%: "${hypothesis}"`);
  });
});
