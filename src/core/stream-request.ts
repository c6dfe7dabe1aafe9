import type { SessionKeyGrant } from '../domain/session-keys.js';

/**
 * Who a stream runs as: the credential a client presented (a session key or an API key, still to be
 * checked; undefined when it sent none), or a grant its surface already resolved (a call's creator
 * key, a LiveKit session's grant).
 */
export type StreamCredential =
  | { kind: 'key'; key: string | undefined }
  | { kind: 'grant'; grant: SessionKeyGrant };

/** The audio a client sends and receives: raw PCM as described, both ways. */
export interface StreamAudioFormat {
  /** The sample encoding, e.g. `pcm_s16le` (the only one the engines take today). */
  format: string;
  /** Samples per second of one channel, in Hz. */
  sampleRateHz: number;
  /** Interleaved channels (1 today). */
  channels: number;
}

/** Which transcripts and translations a client wants sent. */
export interface StreamTranscriptOptions {
  /** Interim (partial) transcripts. */
  interim: boolean;
  /** Final transcripts. */
  final: boolean;
  /** Translations of each final (and their speech). */
  translate: boolean;
}

/**
 * What any surface asks of a stream (docs/architecture.md "Stream session"), in no vendor's field
 * names: one speaker's audio recognized in `sourceLanguage`, translated into `targetLanguage` and
 * spoken with `voice`. Each surface maps its own wire format onto it (the `/vt` config message, a
 * call leg's languages, a LiveKit participant); the stream service checks it against the engines
 * and the organization, and builds the worker's config from it in one place.
 */
export interface StreamRequest {
  /** BCP 47 tag of the speaker's language, e.g. `en-US`. */
  sourceLanguage: string;
  /** BCP 47 tag of the language it is translated into. */
  targetLanguage: string;
  audio: StreamAudioFormat;
  /** `male` or `female`: the synthesized voice. */
  voice: string;
  /** Words the recognizer should expect (at most 500; the organization's glossary is added). */
  vocabulary: readonly string[];
  /** Source → target terms enforced in translation (the organization's glossary is added after). */
  glossary: ReadonlyArray<{ source: string; target: string }>;
  transcript: StreamTranscriptOptions;
  /** Engine features by name, e.g. `background_voice_cancellation: true`. */
  features?: Record<string, unknown> | undefined;
  /** The client's own tags, passed to the worker as they are. */
  metadata?: Record<string, unknown> | undefined;
  credential: StreamCredential;
}

/** Duration of `bytes` of s16le mono audio at `sampleRateHz`, in ms. */
export function pcmDurationMs(bytes: number, sampleRateHz: number): number {
  return (Math.floor(bytes / 2) * 1000) / sampleRateHz;
}
