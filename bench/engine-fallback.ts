/**
 * STT routing and fallback cost (docs/engines.md "Routing and fallback"): on the five LibriVox
 * recordings (one utterance each), the time from the end of an utterance (`flush`) to its final for
 * pocketsphinx alone, pocketsphinx behind the router, and pocketsphinx as the fallback of an engine
 * that fails every utterance (it then recognizes the kept audio from the start). Audio is pushed
 * in 20 ms frames and, where an engine decodes as it goes, decoded before `flush`, as in a live
 * stream. Prints per-recording times and the ratios against pocketsphinx alone, measured in the
 * same run.
 * Usage: node --import tsx bench/engine-fallback.ts
 */
import { resample } from '../src/audio/resampler.js';
import { RoutedStt } from '../src/providers/routing/routed-stt.js';
import { PocketsphinxStt } from '../src/providers/stt/pocketsphinx.js';
import type { SttProvider } from '../src/providers/stt/types.js';
import { FakeStt } from '../src/providers/testing/index.js';
import { librivoxRecordings, loadWav, wordErrors } from '../test/helpers.js';

const recordings = librivoxRecordings().map((r) => {
  const { samples, sampleRateHz } = loadWav(r.path);
  return { id: r.id, samples: resample(samples, sampleRateHz, 16000) };
});

/** Flush → final, in ms, and the final's text, for one recording as one utterance. */
async function finalAfterFlush(stt: SttProvider, samples: Int16Array): Promise<{ ms: number; text: string }> {
  const stream = await stt.open({ language: 'en-US' });
  const reading = (async () => {
    for await (const _ of stream) void _;
  })();
  for (let i = 0; i < samples.length; i += 320) stream.push(samples.subarray(i, i + 320));
  // The decoder takes 100 ms blocks: what is left under one block is decoded by the flush.
  while (stream.pendingMs >= 100) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const final = await stream.flush();
  const ms = performance.now() - t0;
  await stream.close();
  await reading;
  return { ms, text: final.text };
}

const pocketsphinx = new PocketsphinxStt({ maxIdleDecoders: 2, spareDecoders: 0 });
await pocketsphinx.prewarm(2);
const failing = new FakeStt({ name: 'down', capabilities: { languages: ['en'] }, flushError: () => new Error('503') });
const setups: Record<string, SttProvider> = {
  'pocketsphinx alone': pocketsphinx,
  'routed, served': new RoutedStt([{ id: 'pocketsphinx', name: 'pocketsphinx', provider: pocketsphinx }], {}),
  'routed, fallback': new RoutedStt([{ id: 'down', name: 'fake-stt', provider: failing }, { id: 'pocketsphinx', name: 'pocketsphinx', provider: pocketsphinx }], {}),
};
const totals: Record<string, number> = {};
const texts: Record<string, string[]> = {};
let audioS = 0;
for (const r of recordings) {
  audioS += r.samples.length / 16000;
  const row: string[] = [];
  for (const [name, stt] of Object.entries(setups)) {
    const { ms, text } = await finalAfterFlush(stt, r.samples);
    totals[name] = (totals[name] ?? 0) + ms;
    (texts[name] ??= []).push(text);
    row.push(`${name} ${ms.toFixed(0)} ms`);
  }
  console.log(`${r.id} (${(r.samples.length / 16000).toFixed(1)} s): ${row.join(', ')}`);
}
const base = totals['pocketsphinx alone'] ?? 1;
for (const [name, ms] of Object.entries(totals)) {
  // Pooled decoders adapt their cepstral mean utterance by utterance, so the same audio can come
  // out a little differently on a decoder with another history: counted against pocketsphinx alone.
  let errors = 0;
  let words = 0;
  for (const [i, t] of (texts[name] ?? []).entries()) {
    const e = wordErrors(texts['pocketsphinx alone']?.[i] ?? '', t);
    errors += e.errors;
    words += e.words;
  }
  const same = `${errors} of ${words} words differ`;
  console.log(`${name}: ${(ms / recordings.length).toFixed(0)} ms per utterance (${(ms / audioS).toFixed(1)} ms per audio second), ×${(ms / base).toFixed(2)} of pocketsphinx alone, ${same}`);
}
await pocketsphinx.close();
