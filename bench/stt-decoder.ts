/**
 * Recognizer settings benchmark (docs/architecture.md "Engines"): word error rate and CPU cost per audio second of
 * pocketsphinx on the five LibriVox recordings, for Tolk's decoder settings against pocketsphinx's
 * defaults and the rescoring-free settings with wider beams, measured in the same run.
 * Usage: node --import tsx bench/stt-decoder.ts   (prints one line per setting and the ratios)
 */
import { POCKETSPHINX_DECODER_ARGS, PocketsphinxStt } from '../src/providers/stt/pocketsphinx.js';
import { librivoxRecordings, loadWav, wordErrors } from '../test/helpers.js';

const SETTINGS: Record<string, readonly string[]> = {
  'pocketsphinx defaults': [],
  'single pass, tighter beams': ['-fwdflat', 'no', '-bestpath', 'no', '-maxhmmpf', '2000', '-beam', '1e-40', '-pbeam', '1e-40', '-maxwpf', '5', '-pl_window', '5'],
  tolk: POCKETSPHINX_DECODER_ARGS,
};

const recordings = librivoxRecordings().map((r) => ({ ...r, ...loadWav(r.path) }));

/** Decodes every recording in 20 ms frames, as a live stream would arrive, as fast as possible. */
async function measure(args: readonly string[]): Promise<{ wer: number; cpuPerAudioS: number }> {
  const stt = new PocketsphinxStt({ maxIdleDecoders: 1, spareDecoders: 0, decoderArgs: args });
  await stt.prewarm(1);
  let errors = 0;
  let words = 0;
  let cpuMs = 0;
  let audioMs = 0;
  for (const r of recordings) {
    const stream = await stt.open({ language: 'en-US' });
    const finals: string[] = [];
    const reading = (async () => {
      for await (const t of stream) if (t.type === 'final') finals.push(t.text);
    })();
    const before = process.cpuUsage();
    for (let i = 0; i < r.samples.length; i += 320) stream.push(r.samples.subarray(i, i + 320));
    await stream.flush();
    const used = process.cpuUsage(before);
    cpuMs += (used.user + used.system) / 1000;
    audioMs += (r.samples.length * 1000) / r.sampleRateHz;
    await stream.close();
    await reading;
    const e = wordErrors(r.reference, finals.join(' '));
    errors += e.errors;
    words += e.words;
  }
  await stt.close();
  return { wer: errors / words, cpuPerAudioS: cpuMs / audioMs };
}

const results: Record<string, { wer: number; cpuPerAudioS: number }> = {};
for (const [name, args] of Object.entries(SETTINGS)) {
  results[name] = await measure(args);
  const r = results[name];
  console.log(`${name}: WER ${(100 * r.wer).toFixed(1)}%, ${r.cpuPerAudioS.toFixed(3)} CPU s per audio s`);
}
const base = results['pocketsphinx defaults'];
const tolk = results.tolk;
if (base && tolk) {
  console.log(`stt-decoder: tolk settings use ×${(tolk.cpuPerAudioS / base.cpuPerAudioS).toFixed(2)} the CPU of pocketsphinx's defaults, WER ${(100 * tolk.wer).toFixed(1)}% vs ${(100 * base.wer).toFixed(1)}%`);
}
