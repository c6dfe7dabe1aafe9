/**
 * The voice activity detector contract (docs/architecture.md "The pipeline" "vad/endpointing"): every VAD turns a stream of
 * mono s16 samples into utterance events with the same conversational endpointing rules, so the
 * pipeline runs with any of them (docs/vad.md).
 */

/** The VADs a stream can use (`TOLK_VAD`, pipeline option `vad`). */
export const VAD_NAMES = ['energy', 'silero'] as const;
/** One of {@link VAD_NAMES}: `energy` (level above an adaptive noise floor) or `silero` (the Silero VAD model). */
export type VadName = (typeof VAD_NAMES)[number];

/** Why an utterance ended. */
export type EndpointReason = 'pause' | 'sentence-pause' | 'max-length' | 'flush';

/** What a VAD reports for a block of audio, in stream order. */
export type VadEvent =
  /** Speech began; `preRoll` holds the audio just before the start (already part of the utterance). */
  | { type: 'speech-start'; atMs: number; preRoll: Int16Array }
  /** Audio that belongs to the current utterance. */
  | { type: 'speech'; samples: Int16Array }
  /** The utterance ended at `atMs` (end of the last voiced frame); `reason` says why. */
  | { type: 'speech-end'; atMs: number; reason: EndpointReason }
  /**
   * Only with `pauseMs` set: the open utterance has been silent for `pauseMs` since `atMs` (end of
   * its last voiced frame), not yet long enough to end it. Once per pause.
   */
  | { type: 'speech-pause'; atMs: number }
  /** Only after a `speech-pause`: speech resumed in the same utterance (its audio follows in `speech`). */
  | { type: 'speech-resume'; atMs: number };

/**
 * Conversational endpointing, shared by every VAD. All durations in ms; stream times (`atMs`) are
 * audio time from the first sample pushed.
 */
export interface EndpointingOptions {
  /** Sample rate of the audio given to `push`, in Hz. */
  sampleRateHz: number;
  /** Voiced time within `startWindowMs` that starts an utterance. Default 60. */
  speechStartMs?: number;
  /** Window in which `speechStartMs` of voiced frames must fall. Default 100. */
  startWindowMs?: number;
  /** Trailing silence that ends an utterance (the endpoint). Default 300. */
  endpointSilenceMs?: number;
  /** Past this utterance length, a pause of `longUtterancePauseMs` already ends it (sentence boundary of a monologue). Default 10 000. */
  maxUtteranceMs?: number;
  /** Pause that ends an utterance longer than `maxUtteranceMs`. Default 120. */
  longUtterancePauseMs?: number;
  /** Hard limit of an utterance: it is cut here even without a pause. Default 20 000. */
  hardMaxUtteranceMs?: number;
  /** Audio kept before the detected start, so word onsets are not clipped. Default 250. */
  preRollMs?: number;
  /**
   * Silence within an utterance after which a `speech-pause` is reported (before the endpoint, for
   * preemptive synthesis: docs/stream-protocol.md "Preemptive synthesis"). Default 0: no pause events.
   */
  pauseMs?: number;
}

/**
 * One stream's VAD. `push` and `flush` may answer synchronously (energy) or with a promise (a model
 * run off the event loop, silero); callers keep calls in order and events come out in stream order.
 */
export interface StreamVad {
  /** Feeds audio (any length, including odd or empty blocks); returns the events it completes, in order. */
  push(samples: Int16Array): VadEvent[] | Promise<VadEvent[]>;
  /** Ends an open utterance at the end of the stream (reason `flush`). */
  flush(): VadEvent[] | Promise<VadEvent[]>;
  /** Frees what the VAD holds (model state); later calls are not allowed. */
  close?(): void;
}
