import type { UtteranceLatency } from './latency.js';
import type { DictionaryEntry, DictionarySource } from './glossary.js';
import type { VadName } from '../providers/vad/types.js';
import type { VoiceName } from '../providers/tts/types.js';
import type { SegmentPolicy } from './simultaneous.js';

/** Settings of one speaker's pipeline (spec 002 Part 1 `config`, after validation). */
export interface PipelineOptions {
  sourceLanguage: string;
  targetLanguage: string;
  voice: VoiceName;
  /** Rate of the inbound audio and of the synthesized audio sent back, in Hz. */
  sampleRateHz: number;
  vocabulary: readonly string[];
  /**
   * Terms enforced in MT: a fixed list, or a {@link DictionarySource} read again before each
   * utterance is translated (terms added mid-stream apply from the next utterance).
   */
  dictionary: readonly DictionaryEntry[] | DictionarySource;
  /** Emit interim transcripts (`transcript.interim`). */
  interim: boolean;
  /** Emit final transcripts (`transcript.final`). */
  final: boolean;
  /** Emit translations (`transcript.translate`). */
  translate: boolean;
  /** Trailing silence that ends an utterance, in ms. */
  endpointSilenceMs: number;
  /** Utterance length after which a shorter pause ends it, in ms. */
  maxUtteranceMs: number;
  /**
   * `translate` (default): MT and TTS into `targetLanguage`. `recognize`: transcripts only — the
   * caller translates and speaks each final itself (conversation rooms translate once per listener
   * language); `utterance-end` follows each final at once.
   */
  mode?: 'translate' | 'recognize';
  /** The VAD that endpoints utterances (docs/vad.md); default `energy`. */
  vad?: VadName | undefined;
  /** Suppress background noise and voices before VAD and STT (spec 002 `features.background_voice_cancellation`). */
  backgroundVoiceCancellation?: boolean | undefined;
  /**
   * Engines to try first per kind (ids or module names; spec 002 Part 3 `stt.provider`,
   * `translator.provider`, `tts.provider`); routed providers try the rest of their order after them.
   */
  engines?: { stt?: readonly string[]; mt?: readonly string[]; tts?: readonly string[] };
  /**
   * Preemptive synthesis (docs/stream-protocol.md "Preemptive synthesis"): translate and synthesize
   * the hypothesis at a short pause, send it at once if the final says the same. Default
   * `TOLK_PREEMPTIVE` (on). Applies in `translate` mode with a recognizer that gives its hypothesis
   * on demand (pocketsphinx).
   */
  preemptive?: boolean | undefined;
  /** Silence inside an utterance that starts a speculation, in ms; default 120. */
  preemptivePauseMs?: number | undefined;
  /**
   * Simultaneous mode (docs/stream-protocol.md "Simultaneous mode", spec 002 `features.simultaneous`):
   * stable segments of a long utterance are translated and spoken while it goes on, and their
   * translations sent with `final: false`. Default off. Applies in `translate` mode; replaces
   * preemptive synthesis for the stream (a pause commits a segment instead).
   */
  simultaneous?: boolean | undefined;
  /** How simultaneous mode cuts segments; default `DEFAULT_SEGMENT_POLICY` of src/pipeline/simultaneous.ts (bench/simultaneous.ts compares others). */
  segmentPolicy?: SegmentPolicy | undefined;
}

/** Events a pipeline emits, in order per utterance (docs/architecture.md "The pipeline" frames). */
export type PipelineEvent =
  | {
      type: 'transcript';
      utteranceId: string;
      text: string;
      final: boolean;
      /** Wall-clock start of the utterance. */
      startedAt: Date;
      /** Audio covered by this transcript, in ms. */
      durationMs: number;
    }
  /**
   * The translation of a final; `transcript` is that final's text, `latencyMs` is end of speech →
   * this translation.
   */
  | { type: 'translation'; utteranceId: string; text: string; final: boolean; latencyMs: number; transcript: string }
  /** Synthesized speech: s16le bytes at `sampleRateHz` of the options. */
  | { type: 'audio'; utteranceId: string; pcm: Buffer }
  /**
   * All events of an utterance are out; latency marks attached. `startedAt` and `durationMs` are
   * those of its final transcript; `confidence` is the recognizer's in it (0..1), null when the
   * engine gave none.
   */
  | {
      type: 'utterance-end'; utteranceId: string; latency: UtteranceLatency; transcript: string; translation: string;
      startedAt: Date; durationMs: number; confidence: number | null;
    }
  /** The pipeline failed; `cause` is for the server's log, never for the client. */
  | { type: 'error'; status: number; description: string; cause: unknown };
