/**
 * Machine-translation provider interface (docs/architecture.md "Engines"). Glossary terms travel as slots the engine must
 * pass through untouched; the shared glossary code substitutes the target terms afterwards.
 */

/** A source → target language pair, as primary language subtags (e.g. `en` → `es`). */
export interface LanguagePair {
  source: string;
  target: string;
}

/** Text with glossary slots: plain runs, and `{ slot }` markers standing for protected terms. */
export type MtText = ReadonlyArray<string | { slot: number }>;

/** Per-request options of {@link MtProvider.translate}; engines that cannot use one ignore it. */
export interface MtRequestOptions {
  /**
   * The target-language term each slot stands for, by slot number, for engines that can use it as
   * context (an LLM); the slots still come back as slots, and the glossary code writes the terms.
   */
  slotTerms?: readonly string[];
  /** Aborts the request (the stream closed). */
  signal?: AbortSignal;
  /** Engines to try first (ids or module names, spec 002 Part 3 `translator.provider`); see `SttStreamOptions.engines`. */
  engines?: readonly string[];
}

/** What an MT engine can translate. */
export interface MtCapabilities {
  pairs: readonly LanguagePair[];
  /**
   * Set by an engine whose translations are made by an STT engine while it recognizes (e.g.
   * Soniox): that STT engine's `name`. The pipeline then opens the STT stream with `translateTo`
   * and takes each final's `translation` instead of calling `translate`.
   */
  fromRecognizer?: string;
}

/** An MT engine. */
export interface MtProvider {
  readonly name: string;
  readonly capabilities: MtCapabilities;
  /**
   * Translates one utterance. Slots come back in the output, wherever the engine put them.
   * @throws {Error} when the pair is not supported or the engine fails.
   */
  translate(input: MtText, pair: LanguagePair, options?: MtRequestOptions): Promise<MtText>;
  /** Starts the engine for `pairs` ahead of the first request. */
  prewarm(pairs?: readonly LanguagePair[]): Promise<void>;
  /** Stops every engine process. */
  close(): Promise<void>;
}
