import { ApertiumMt } from './mt/apertium.js';
import { supportedPairs, type Engines } from './registry.js';
import { PocketsphinxStt, pocketsphinxAvailable } from './stt/pocketsphinx.js';
import { EspeakTts } from './tts/espeak.js';

/**
 * Starts the offline engines (DESIGN §4): pocketsphinx, Apertium and espeak-ng from Debian packages.
 * Pre-loads one recognizer and every MT pair so the first stream does not pay for start-up.
 * @param options.prewarm - pre-load engines (default true).
 * @param options.idleDecoders - recognizers kept loaded between streams (default 4).
 * @param options.recognizers - false for a gateway (role `gateway`, DESIGN §2): workers recognize,
 *   so no recognizer is pre-loaded or kept; MT and TTS stay (conversation rooms translate and speak
 *   once per language at the gateway) and language discovery is unchanged.
 * @throws {Error} naming the missing Debian packages when an engine is not installed.
 */
export async function createOfflineEngines(options: { prewarm?: boolean; idleDecoders?: number; recognizers?: boolean } = {}): Promise<Engines> {
  const missing: string[] = [];
  if (!pocketsphinxAvailable()) missing.push('libpocketsphinx3 pocketsphinx-en-us');
  const mt = new ApertiumMt();
  if (mt.capabilities.pairs.length === 0) missing.push('apertium apertium-eng-spa');
  const tts = new EspeakTts();
  if (tts.capabilities.languages.length === 0) missing.push('espeak-ng');
  if (missing.length > 0) {
    throw new Error(`speech engines are not installed; run 'make start' or apt-get install ${missing.join(' ')}`);
  }
  const recognizers = options.recognizers !== false;
  const stt = new PocketsphinxStt({ maxIdleDecoders: recognizers ? options.idleDecoders : 0, spareDecoders: recognizers ? undefined : 0 });
  const engines = { stt, mt, tts };
  if (options.prewarm !== false) {
    const pairs = supportedPairs(engines).filter((p) => p.source !== p.target);
    await Promise.all([recognizers ? stt.prewarm(1) : undefined, mt.prewarm(pairs)]);
  }
  return engines;
}

/** Stops every engine process and frees pooled recognizers. */
export async function closeEngines(engines: Engines): Promise<void> {
  await Promise.all([engines.stt.close(), engines.mt.close()]);
}
