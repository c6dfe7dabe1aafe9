/**
 * The `soniox` translator (spec 002 Part 3 `translator.provider: "soniox"`): Soniox translates
 * speech while it recognizes it, in the same real-time session (https://soniox.com/docs/stt/rt/real-time-translation),
 * so this engine makes no request of its own. It declares the pairs the model translates and
 * `fromRecognizer: 'soniox'`; the pipeline then opens the `soniox` STT stream with `translateTo`
 * and takes each final transcript's `translation`. It works only with `stt.provider: "soniox"`.
 */
import { defineEngine } from '../engine-module.js';
import { fetchSonioxModel, sonioxTranslationPairs, type SonioxModel } from '../stt/soniox-protocol.js';
import { sonioxAccountSettings } from '../stt/soniox.js';
import type { LanguagePair, MtCapabilities, MtProvider, MtText } from './types.js';

/** The Soniox translator: pairs from the model's entry in `GET /v1/models`. */
export class SonioxMt implements MtProvider {
  readonly name = 'soniox';
  readonly capabilities: MtCapabilities;

  constructor(model: SonioxModel) {
    this.capabilities = { pairs: sonioxTranslationPairs(model), fromRecognizer: 'soniox' };
  }

  /**
   * Never translates text on its own: Soniox translates only the speech its STT session hears.
   * @throws {Error} always, saying to pair this translator with the `soniox` STT engine.
   */
  async translate(_input: MtText, pair: LanguagePair): Promise<MtText> {
    throw new Error(
      `the soniox translator translates speech recognized by the soniox STT engine only (asked ${pair.source}→${pair.target} text): use stt.provider "soniox" with translator.provider "soniox"`,
    );
  }

  /** Nothing to start: translation happens in the STT session. */
  async prewarm(): Promise<void> {}

  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/** The `soniox` MT engine module. */
export const sonioxMtEngine = defineEngine({
  kind: 'mt',
  name: 'soniox',
  description: 'Soniox real-time translation, made by the soniox STT session as it recognizes (pair with stt soniox)',
  settings: sonioxAccountSettings,
  async create(settings, context) {
    return new SonioxMt(await fetchSonioxModel(settings.apiUrl, settings.apiKey, settings.model, context.signal));
  },
});

export default sonioxMtEngine;
