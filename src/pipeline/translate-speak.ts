import { encodeS16le } from '../audio/pcm.js';
import { StreamingResampler } from '../audio/resampler.js';
import type { MtProvider } from '../providers/mt/types.js';
import { primaryLanguage } from '../common/language-tags.js';
import type { TtsProvider, VoiceName } from '../providers/tts/types.js';
import { protectTerms, restoreTerms, type DictionaryEntry } from './glossary.js';

/**
 * Translates one final transcript with the glossary enforced (docs/architecture.md "The pipeline" "mt (+glossary)"): each
 * dictionary source term that occurs is protected through MT and rendered as its target term.
 * Same primary language on both sides: no MT, the text (with its terms applied) comes back.
 * `engines` are MT engines to try first (ids or module names), as `MtRequestOptions.engines`.
 * @throws {Error} when the MT engine fails.
 */
export async function translateWithGlossary(
  mt: MtProvider,
  text: string,
  sourceLanguage: string,
  targetLanguage: string,
  dictionary: readonly DictionaryEntry[],
  engines?: readonly string[],
): Promise<string> {
  if (!text) return '';
  const pair = { source: primaryLanguage(sourceLanguage), target: primaryLanguage(targetLanguage) };
  const prepared = protectTerms(text, dictionary);
  const output = pair.source === pair.target ? prepared.input : await mt.translate(prepared.input, pair, engines ? { engines } : undefined);
  return restoreTerms(output, prepared.targets);
}

/**
 * Synthesizes `text` and yields it as s16le mono PCM at `sampleRateHz` (docs/architecture.md "The pipeline" "tts → egress"),
 * block by block as the engine produces it, so the first bytes can be sent before the rest exists.
 * `options.engines`: TTS engines to try first, as `TtsRequest.engines`; `options.speed`: as `TtsRequest.speed`.
 * @throws {Error} when the TTS engine fails.
 */
export async function* synthesizePcm(
  tts: TtsProvider,
  text: string,
  options: { language: string; voice: VoiceName; sampleRateHz: number; engines?: readonly string[] | undefined; speed?: number | undefined },
): AsyncGenerator<Buffer> {
  if (!text) return;
  const egress = new StreamingResampler(tts.capabilities.sampleRateHz, options.sampleRateHz);
  const extra = { ...(options.engines ? { engines: options.engines } : {}), ...(options.speed !== undefined ? { speed: options.speed } : {}) };
  for await (const block of tts.synthesize(text, { language: options.language, voice: options.voice, ...extra })) {
    const out = egress.process(block);
    if (out.length > 0) yield encodeS16le(out);
  }
  const tail = egress.flush();
  if (tail.length > 0) yield encodeS16le(tail);
}
