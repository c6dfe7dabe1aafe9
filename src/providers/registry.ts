import { primaryLanguage } from '../common/language-tags.js';
import type { LanguagePair, MtProvider } from './mt/types.js';
import type { SttProvider } from './stt/types.js';
import type { TtsProvider, VoiceName } from './tts/types.js';
import { ROUTED_PROVIDER, type RoutedProviderInfo } from './routing/route-order.js';

/** The engines one process runs with (docs/architecture.md "Engines"). */
export interface Engines {
  stt: SttProvider;
  mt: MtProvider;
  tts: TtsProvider;
}

/** A language pair a stream can use, with whether translated speech is available for it. */
export interface SupportedPair extends LanguagePair {
  /** True when the TTS engine has voices for the target language. */
  speech: boolean;
}


/**
 * What the installed engines can do together: sources the STT recognizes, each paired with the MT
 * targets reachable from it (and the source itself, which needs no MT). Never a hard-coded list.
 */
export function supportedPairs(engines: Engines): SupportedPair[] {
  const sources = new Set(engines.stt.capabilities.languages);
  const ttsPrimaries = new Set(engines.tts.capabilities.languages.map(primaryLanguage));
  const pairs: SupportedPair[] = [];
  for (const source of sources) {
    pairs.push({ source, target: source, speech: ttsPrimaries.has(source) });
    for (const p of engines.mt.capabilities.pairs) {
      if (p.source === source) pairs.push({ ...p, speech: ttsPrimaries.has(p.target) });
    }
  }
  return pairs;
}

/** Result of checking a stream's languages and voice against the engines. */
export type LanguageCheck = { ok: true; pair: SupportedPair } | { ok: false; description: string };

/** Checks a source/target/voice choice; the description says how to fix the request. */
export function checkLanguages(engines: Engines, source: string, target: string, voice: VoiceName): LanguageCheck {
  const pairs = supportedPairs(engines);
  const s = primaryLanguage(source);
  const t = primaryLanguage(target);
  if (!pairs.some((p) => p.source === s)) {
    const known = [...new Set(pairs.map((p) => p.source))].join(', ');
    return { ok: false, description: `Unsupported source_language "${source}"; supported: ${known}` };
  }
  const pair = pairs.find((p) => p.source === s && p.target === t);
  if (!pair) {
    const known = pairs.filter((p) => p.source === s).map((p) => p.target).join(', ');
    return { ok: false, description: `Unsupported target_language "${target}" for source ${s}; supported: ${known}` };
  }
  if (!pair.speech || !engines.tts.capabilities.voices.includes(voice)) {
    return { ok: false, description: `Invalid voice "${voice}" for ${target}: no synthesized voice is installed for this language` };
  }
  return { ok: true, pair };
}

/** What a spec 002 Part 3 `*.provider` name asks of a provider: the engines to try first, or that it does not run it. */
export type ProviderChoice = { ok: true; engines?: readonly string[] } | { ok: false; runs: string };

/**
 * Reads a leg-2 `stt.provider` / `translator.provider` / `tts.provider` against the provider a
 * process runs (docs/engines.md "Spec fields"): its own name or `auto` route by the configuration;
 * the id or module name of an engine behind a routed provider selects that engine first; anything
 * else is not run here (`runs` lists what is, for the error).
 */
export function providerChoice(provider: { readonly name: string }, requested: string): ProviderChoice {
  if (requested === provider.name || requested === ROUTED_PROVIDER) return { ok: true };
  const routed = provider as Partial<RoutedProviderInfo>;
  if (routed.runs?.(requested)) return { ok: true, engines: [requested] };
  return { ok: false, runs: routed.engineIds ? routed.engineIds.join(', ') : provider.name };
}
