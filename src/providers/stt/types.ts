/**
 * Speech-to-text provider interface (docs/architecture.md "Engines"). A provider opens one stream per speaker; the stream
 * takes speech audio with `push`, ends an utterance with `flush` and yields interim and final
 * transcripts as an async iterator.
 */

/** What an STT engine can do; drives validation and the languages Tolk offers. */
export interface SttCapabilities {
  /** Primary language subtags the engine recognizes (e.g. `en`). */
  languages: readonly string[];
  /** Whether the engine gives interim hypotheses while the person speaks. */
  interimResults: boolean;
  /** Whether `vocabulary` words can be added to what the engine recognizes. */
  vocabulary: boolean;
  /** The one rate, in Hz, at which the stream takes audio. */
  sampleRateHz: number;
  /**
   * Who ends utterances. `vad` (the default when absent): the caller's VAD does, each `flush` ends
   * one and gives its final. `provider`: the engine also ends utterances itself while audio flows
   * (its finals carry `endpoint: 'provider'`), so one VAD segment may give several finals.
   */
  endpointing?: 'vad' | 'provider';
  /**
   * Whether the engine can translate what it recognizes while it recognizes it (a stream opened
   * with `translateTo` gives each final its `translation`).
   */
  translation?: boolean;
  /**
   * True when recognition runs on this process's CPU (pocketsphinx): the process's real-time budget
   * is calibrated on such an engine (docs/deploy.md "Capacity"). Remote engines leave it unset.
   */
  inProcess?: boolean;
}

/** A transcript of the current utterance: interim while speaking, final after `flush`. */
export interface SttTranscript {
  type: 'interim' | 'final';
  text: string;
  /** Audio decoded so far in this utterance, in ms. */
  audioMs: number;
  /**
   * Finals only: the engine's confidence in the transcript, 0..1; undefined when the engine gives
   * none for this utterance.
   */
  confidence?: number;
  /**
   * Finals only: `provider` when the engine ended this utterance itself (capabilities.endpointing
   * `provider`); such a final answers no `flush`. Absent on the final that a `flush` resolves with.
   */
  endpoint?: 'provider';
  /**
   * Finals only, on a stream opened with `translateTo`: the engine's translation of `text` into that
   * language (`''` when it gave none).
   */
  translation?: string;
  /**
   * Finals only: the language the engine heard, as a primary subtag (e.g. `en`); undefined when
   * the engine does not say.
   */
  language?: string;
}

/** Options of one recognition stream. */
export interface SttStreamOptions {
  /** BCP 47 locale of the speech, e.g. `en-US`. */
  language: string;
  /** Words to make recognizable where the engine allows (spec 002 `vocabulary`). */
  vocabulary?: readonly string[];
  /** A stream Tolk opens for itself (the capacity calibration): the engine reports no request for it to `/metrics`. */
  internal?: boolean;
  /**
   * BCP 47 locale to translate each final into, for engines with `capabilities.translation`
   * (ignored by the others); finals then carry `translation`.
   */
  translateTo?: string;
  /** Source → target terms the engine's translation must use (spec 002 `dictionary`), with `translateTo`. */
  translationTerms?: ReadonlyArray<{ source: string; target: string }>;
  /**
   * Engines to try first (ids or module names, spec 002 Part 3 `stt.provider`, an organization's
   * choice); a routed provider tries the rest of the language's order after them. Single engines ignore it.
   */
  engines?: readonly string[];
}

/** One speaker's recognition stream. Not safe for concurrent `flush` calls: await each. */
export interface SttStream extends AsyncIterable<SttTranscript> {
  /** Audio pushed but not yet decoded, in ms. */
  readonly pendingMs: number;
  /** Adds speech audio (mono s16 at `capabilities.sampleRateHz`) to the current utterance. */
  push(samples: Int16Array): void;
  /** Ends the current utterance; resolves with its final transcript (also yielded by the iterator). */
  flush(): Promise<SttTranscript>;
  /**
   * Optional: the current utterance's hypothesis over all the audio pushed so far, without ending
   * the utterance (what its final would say if it ended now; `''` before any speech). Engines that
   * have it allow preemptive synthesis (docs/stream-protocol.md "Preemptive synthesis"); calls run
   * in order with `push` and `flush`, off the event loop.
   * @throws {Error} when the stream is closed or the engine fails.
   */
  hypothesis?(): Promise<string>;
  /** Releases the engine's resources; the iterator ends. */
  close(): Promise<void>;
}

/** An STT engine. */
export interface SttProvider {
  readonly name: string;
  readonly capabilities: SttCapabilities;
  /**
   * Opens a stream.
   * @throws {Error} when the language is not in `capabilities.languages` or the engine fails to start.
   */
  open(options: SttStreamOptions): Promise<SttStream>;
  /** Frees pooled engine resources. */
  close(): Promise<void>;
  /**
   * Totals since start, for the real-time factor (`/metrics`): audio decoded and time spent in the
   * engine's decode calls, both in ms. Optional: engines that cannot tell omit it.
   */
  stats?(): SttStats;
}

/** Cumulative STT work, in ms: `decodeMs / audioMs` is the real-time factor. */
export interface SttStats {
  audioMs: number;
  decodeMs: number;
  /**
   * Recognizers loaded since start (work that is not decoding): a capacity estimate skips the
   * windows in which it changed. Optional: engines that load nothing omit it.
   */
  loads?: number;
  /** Recognizers being loaded right now (a capacity estimate waits for none to be). */
  loading?: number;
  /**
   * CPU time the recognizer's own threads spent decoding streams' audio (closing utterances and
   * scoring them included, loading excluded), in ms: the cost the real-time budget measures when
   * set (docs/deploy.md "Capacity"). Omitted by engines that cannot measure it per thread.
   */
  decodeCpuMs?: number;
  /** Recognizers loaded now, idle or serving a stream. */
  loaded?: number;
  /** Recognizers loaded and idle now, ready for a stream without vocabulary. */
  idle?: number;
  /** Resident memory one more loaded recognizer adds, in MB (measured; docs/deploy.md "Memory"). */
  mbPerRecognizer?: number;
}
