import fs from 'node:fs';
import { resample } from '../audio/resampler.js';
import { readWav } from '../audio/wav.js';
import { synthesizePcm } from '../pipeline/translate-speak.js';
import type { Engines } from '../providers/registry.js';
import type { SttProvider, SttStats } from '../providers/stt/types.js';
import type { RoutedStt } from '../providers/routing/routed-stt.js';

/**
 * A live stream's in-process CPU time per second of audio against its recognizer's alone: the
 * event loop's share (VAD, resampling, transport, reading MT and TTS output) about equals the
 * recognizer's. Measured with `bench/stream-latency.ts`: 0.082 CPU s per audio s on the recognizer's
 * threads at start-up against 0.16–0.18 for the whole process under live streams. Live traffic then
 * replaces the estimate with the process's own measurement (docs/deploy.md "Capacity").
 */
export const STREAM_COST_PER_RECOGNIZER_COST = 2;

/** The process's CPU time, user + system, in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The LibriVox recording (Debian's `pocketsphinx-testdata`, installed with the engines) the calibration decodes. */
export const CALIBRATION_RECORDING = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

const calibrations = new WeakMap<SttProvider, Promise<number | undefined>>();

/**
 * Measures the recognizer's CPU cost per second of audio at start-up (once per recognizer): a
 * stream decodes {@link CALIBRATION_RECORDING} (7.1 s of read speech), or speech synthesized by
 * the TTS engine when the recording is not installed, pushed in 100 ms blocks as fast as the
 * recognizer takes them; the cost is the CPU time of the recognizer's own threads over the audio's
 * duration (`SttStats.decodeCpuMs`: what other work on the machine — or a recognizer loading
 * meanwhile — does not change) × {@link STREAM_COST_PER_RECOGNIZER_COST} for the rest of the
 * pipeline, or the process's CPU time for engines that do not measure it per thread.
 * @returns CPU seconds per audio second; undefined for engines without statistics (fakes) or when
 *   no speech could be had or decoded.
 */
export function calibrateSttCost(engines: Engines): Promise<number | undefined> {
  let run = calibrations.get(engines.stt);
  if (!run) {
    run = measureSttCost(engines).catch(() => undefined);
    calibrations.set(engines.stt, run);
  }
  return run;
}

/**
 * The recognizer whose cost is this process's: `engines.stt` itself when it runs in process, else
 * (a router) the first in-process engine it routes English (or any language) to. Remote engines are
 * never calibrated: a start-up request to them would cost their server, not this process.
 */
export function inProcessRecognizer(stt: SttProvider): SttProvider | undefined {
  if (stt.capabilities.inProcess) return stt;
  const router = stt as Partial<Pick<RoutedStt, 'order'>>;
  if (!router.order) return undefined;
  const languages = ['en', ...stt.capabilities.languages];
  for (const language of languages) {
    const local = router.order(language).find((e) => e.provider.capabilities.inProcess);
    if (local) return local.provider;
  }
  return undefined;
}

async function measureSttCost(engines: Engines): Promise<number | undefined> {
  const stt = inProcessRecognizer(engines.stt);
  if (!stt?.stats) return undefined;
  const stats = stt.stats.bind(stt);
  const speech = await calibrationSpeech(engines, stt.capabilities.sampleRateHz);
  if (!speech || speech.length === 0) return undefined;
  const language = stt.capabilities.languages.includes('en') ? 'en-US' : `${stt.capabilities.languages[0] ?? 'en'}`;
  // Opening may start loading a spare recognizer: its CPU is not decoding, so the measurement
  // waits for loads to finish and is taken again when one started meanwhile (at most 3 times).
  for (let attempt = 0; attempt < 3; attempt++) {
    const stream = await stt.open({ language, internal: true });
    const reading = (async () => {
      for await (const t of stream) void t; // transcripts are not needed
    })();
    const threadCpu = stats().decodeCpuMs !== undefined;
    if (!threadCpu) await loadsSettled(stats);
    const loadsBefore = stats().loads ?? 0;
    const cpuNow = (): number => (threadCpu ? (stats().decodeCpuMs ?? 0) : processCpuMs());
    const before = cpuNow();
    const block = stt.capabilities.sampleRateHz / 10;
    for (let i = 0; i < speech.length; i += block) stream.push(speech.subarray(i, i + block));
    await stream.flush();
    const cpuMs = cpuNow() - before;
    await stream.close();
    await reading;
    const s = stats();
    const clean = threadCpu || ((s.loads ?? 0) === loadsBefore && !(s.loading ?? 0));
    const perAudioS = cpuMs / ((speech.length * 1000) / stt.capabilities.sampleRateHz);
    if (clean) return threadCpu ? perAudioS * STREAM_COST_PER_RECOGNIZER_COST : perAudioS;
  }
  return undefined;
}

/** Waits (at most 30 s) until the recognizer loads nothing. */
async function loadsSettled(stats: () => SttStats): Promise<void> {
  for (let waited = 0; (stats().loading ?? 0) > 0 && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
}

async function calibrationSpeech(engines: Engines, rate: number): Promise<Int16Array | undefined> {
  if (fs.existsSync(CALIBRATION_RECORDING)) {
    const { samples, sampleRateHz } = readWav(fs.readFileSync(CALIBRATION_RECORDING));
    return resample(samples, sampleRateHz, rate);
  }
  const blocks: Buffer[] = [];
  for await (const pcm of synthesizePcm(engines.tts, CALIBRATION_TEXT, { language: 'en', voice: 'female', sampleRateHz: rate })) blocks.push(pcm);
  const bytes = Buffer.concat(blocks);
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2)).slice();
}

/** What the TTS engine says for the calibration when the LibriVox recording is not installed. */
const CALIBRATION_TEXT =
  'And mister John Dashwood had then leisure to consider how much there might be prudently in his power to do for them.';
