import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { concatSamples } from '../src/audio/pcm.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent } from '../src/client/vt-client.js';
import { preemptionStats, type PreemptionStats } from '../src/pipeline/preemptive-synthesis.js';
import { synthesizePcm, translateWithGlossary } from '../src/pipeline/translate-speak.js';
import { trimSilence } from '../src/providers/testing/espeak-speech.js';
import { pcmBlocks, speechLikePcm, type PcmSegment } from '../src/providers/testing/index.js';
import { EnergyVad } from '../src/providers/vad/energy.js';
import type { VadEvent } from '../src/providers/vad/types.js';
import { closeTestEngines, librivoxSamples, startTestServer, testEngines } from './helpers.js';

/**
 * What the client receives without preemption for a final `text`: the final, its Apertium
 * translation, and that translation spoken by espeak-ng at the stream's rate (its byte count), as
 * the pipeline translates and speaks a final when it has nothing speculated.
 */
async function consecutive(text: string): Promise<string[]> {
  const engines = await testEngines();
  const translation = await translateWithGlossary(engines.mt, text, 'en-US', 'es-ES', []);
  let bytes = 0;
  for await (const pcm of synthesizePcm(engines.tts, translation, { language: 'es-ES', voice: 'female', sampleRateHz: RATE_HZ })) bytes += pcm.length;
  return [`final: ${text}`, `translate: ${translation}`, `audio ${bytes} bytes`];
}

/** A LibriVox recording without the quiet at its ends, so pauses placed around it are exact. */
const speech = (idSuffix: string): Int16Array => trimSilence(librivoxSamples(idSuffix), 600);

/**
 * Preemptive synthesis (docs/stream-protocol.md "Preemptive synthesis") through `/vt` on the
 * offline engines, at real-time pace: what the client receives, and what the server speculated
 * (the process-wide counts, read from this process, which runs the server).
 */

type Server = Awaited<ReturnType<typeof startTestServer>>;
const RATE_HZ = 16000;
const silence = (ms: number): Int16Array => new Int16Array((RATE_HZ * ms) / 1000);

async function stream(server: Server, samples: Int16Array): Promise<ReceivedEvent[]> {
  const sessionKey = await fetchSessionKey(server.url, server.apiKey, 120);
  const result = await streamAudio({
    url: vtUrl(server.url, sessionKey),
    config: {
      audio: { format: 'pcm_s16le', sample_rate: RATE_HZ, channels: 1 },
      source_language: 'en-US', target_language: 'es-ES', voice: 'female',
      transcript: { interim: true, final: true, translate: true },
    },
    samples, sampleRateHz: RATE_HZ,
  });
  return result.events;
}

/** The stream's events without interims, one line each; consecutive audio events become one line with their byte total. */
function received(events: ReceivedEvent[]): string[] {
  const lines: string[] = [];
  let audioBytes = 0;
  for (const e of events) {
    if (e.kind === 'audio') {
      audioBytes += e.bytes;
      continue;
    }
    if (audioBytes > 0) lines.push(`audio ${audioBytes} bytes`);
    audioBytes = 0;
    if (e.kind === 'transcript' && e.final) lines.push(`final: ${e.text}`);
    else if (e.kind === 'translate') lines.push(`translate: ${e.text}`);
    else if (e.kind === 'error') lines.push(`error ${e.code}: ${e.description}`);
  }
  if (audioBytes > 0) lines.push(`audio ${audioBytes} bytes`);
  return lines;
}

function delta(before: PreemptionStats): Omit<PreemptionStats, 'discardedEngineMs'> {
  const now = preemptionStats();
  return { started: now.started - before.started, used: now.used - before.used, discarded: now.discarded - before.discarded };
}

/** Runs `work` with `TOLK_PREEMPTIVE` set to `value` for the streams it opens. */
async function withPreemptive<T>(value: string, work: () => Promise<T>): Promise<T> {
  const saved = process.env.TOLK_PREEMPTIVE;
  process.env.TOLK_PREEMPTIVE = value;
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.TOLK_PREEMPTIVE;
    else process.env.TOLK_PREEMPTIVE = saved;
  }
}

describe('preemptive synthesis over /vt', () => {
  let server: Server;
  before(async () => {
    // The pauses below are cut to the energy VAD's timing (a 200 ms gap is a pause, not an endpoint);
    // Silero hears the end of a word sooner, so the same gap can end the utterance there.
    server = await startTestServer({ vad: 'energy' });
  });
  after(async () => {
    await server?.close();
    await closeTestEngines();
  });

  it('a pause followed by more speech sends nothing speculative: one final, its translation, its speech', async () => {
    // 200 ms inside the utterance: past the pause that starts a speculation (120), short of the endpoint (300).
    const audio = concatSamples([silence(500), speech('0880'), silence(200), speech('0930'), silence(1500)]);
    const before = preemptionStats();
    const on = received(await stream(server, audio));
    const work = delta(before);
    assert.ok(work.started >= 1 && work.discarded >= 1, `the pause was speculated on and discarded: ${JSON.stringify(work)}`);
    assert.equal(on.length, 3, on.join('\n'));
    const final = (on[0] ?? '').replace(/^final: /, '');
    assert.ok(final.split(' ').length >= 8, `one final holds both parts: ${final}`);
    assert.deepEqual(on, await consecutive(final), 'the client receives only the final\'s translation and speech');
  });

  it('a committed pause sends the speculated speech: the same text and samples as consecutive synthesis', async () => {
    const audio = concatSamples([silence(500), speech('0880'), silence(1500)]);
    const before = preemptionStats();
    const on = received(await stream(server, audio));
    const work = delta(before);
    assert.equal(work.used, 1, `the final took the speculation: ${JSON.stringify(work)}\n${on.join('\n')}`);
    assert.equal(on.length, 3, on.join('\n'));
    assert.deepEqual(on, await consecutive((on[0] ?? '').replace(/^final: /, '')));
  });

  it('TOLK_PREEMPTIVE=off speculates nothing and sends the same', async () => {
    const audio = concatSamples([silence(500), speech('0880'), silence(1500)]);
    const before = preemptionStats();
    const off = await withPreemptive('off', async () => received(await stream(server, audio)));
    assert.deepEqual(delta(before), { started: 0, used: 0, discarded: 0 });
    assert.equal(off.length, 3, off.join('\n'));
    assert.deepEqual(off, await consecutive((off[0] ?? '').replace(/^final: /, '')));
  });
});

describe('pause events of the endpointer', () => {
  /** The events of `segments` through an energy VAD, and the audio it passes on to the recognizer. */
  function endpoint(segments: readonly PcmSegment[], pauseMs?: number): { marks: string[]; audio: Int16Array } {
    const vad = new EnergyVad({ sampleRateHz: RATE_HZ, pauseMs });
    const events: VadEvent[] = pcmBlocks(speechLikePcm(segments, { sampleRateHz: RATE_HZ }), 20, RATE_HZ).flatMap((b) => vad.push(b));
    events.push(...vad.flush());
    const audio = concatSamples(events.flatMap((e) => (e.type === 'speech' ? [e.samples] : e.type === 'speech-start' ? [e.preRoll] : [])));
    return { marks: events.filter((e) => e.type !== 'speech').map((e) => (e.type === 'speech-end' ? `end ${e.reason}` : e.type)), audio };
  }

  it('reports a pause and the speech resuming after it; the recognizer gets the same audio as without them', () => {
    const segments: PcmSegment[] = [{ silenceMs: 300 }, { speechMs: 600 }, { silenceMs: 200 }, { speechMs: 500 }, { silenceMs: 600 }];
    const withPauses = endpoint(segments, 120);
    assert.deepEqual(withPauses.marks, ['speech-start', 'speech-pause', 'speech-resume', 'speech-pause', 'end pause']);
    const without = endpoint(segments);
    assert.deepEqual(without.marks, ['speech-start', 'end pause']);
    assert.deepEqual(withPauses.audio, without.audio);
  });
});
