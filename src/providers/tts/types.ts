/**
 * Text-to-speech provider interface (docs/architecture.md "Engines"): synthesized speech streams out as it is produced.
 */

export type { VoiceName } from '../../common/voices.js';
import type { VoiceName } from '../../common/voices.js';

/** What a TTS engine can speak. */
export interface TtsCapabilities {
  /** BCP 47 tags (lower case) and primary subtags the engine has a voice for. */
  languages: readonly string[];
  voices: readonly VoiceName[];
  /** Rate, in Hz, of the samples `synthesize` yields. */
  sampleRateHz: number;
}

/** Options of one synthesis request. */
export interface TtsRequest {
  /** BCP 47 locale to speak, e.g. `es-ES`. */
  language: string;
  voice: VoiceName;
  /**
   * Speaking rate relative to the engine's default (1, the default; 1.25 is a quarter faster).
   * Simultaneous mode speeds up speech that would fall behind (docs/stream-protocol.md
   * "Simultaneous mode"); engines without a rate setting ignore it.
   */
  speed?: number;
  /** Engines to try first (ids or module names, spec 002 Part 3 `tts.provider`); see `SttStreamOptions.engines`. */
  engines?: readonly string[];
}

/** A TTS engine. */
export interface TtsProvider {
  readonly name: string;
  readonly capabilities: TtsCapabilities;
  /**
   * Speaks `text`, yielding mono s16 blocks at `capabilities.sampleRateHz` as they are produced.
   * @throws {Error} when the language has no voice or the engine fails.
   */
  synthesize(text: string, request: TtsRequest): AsyncIterable<Int16Array>;
}
