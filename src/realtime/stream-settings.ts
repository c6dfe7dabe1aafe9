import type { TolkConfig } from '../config.js';
import type { VadName } from '../providers/vad/types.js';

/**
 * What every process that runs pipelines applies to each stream, whatever its role (`all` runs them
 * in-process, `worker` behind leg 2; docs/architecture.md "Processes"): endpointing, the VAD, and the
 * limits. Built by {@link streamSettings} only, so the roles cannot diverge.
 */
export interface StreamSettings {
  /** Trailing silence that ends an utterance, in ms (`TOLK_ENDPOINT_SILENCE_MS`, docs/vad.md). */
  endpointSilenceMs: number;
  /** Utterance length after which a shorter pause ends it, in ms (`TOLK_MAX_UTTERANCE_MS`). */
  maxUtteranceMs: number;
  /** The VAD that endpoints utterances (`TOLK_VAD`, docs/vad.md; default `silero`). */
  vad: VadName;
  /** Audio queued behind real time at which a stream is shed, in ms (`TOLK_MAX_BACKLOG_MS`, docs/deploy.md "Capacity"). */
  maxBacklogMs: number;
  /** Largest inbound message a stream's socket accepts, in bytes (`TOLK_MAX_FRAME_BYTES`). */
  maxFrameBytes: number;
  /** Outbound bytes a stream's socket may buffer before it is closed as too slow (`TOLK_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes: number;
  /** Pipelines this process runs at most, of every transport together (`TOLK_MAX_STREAMS`). */
  maxStreams: number;
}

/**
 * The stream settings of a process, from its configuration: the one place roles `all` and `worker`
 * read them from (docs/vad.md "Choosing the VAD").
 * @param config - the loaded configuration (`loadConfig`).
 */
export function streamSettings(config: TolkConfig): StreamSettings {
  return {
    endpointSilenceMs: config.endpointSilenceMs,
    maxUtteranceMs: config.maxUtteranceMs,
    vad: config.vad,
    maxBacklogMs: config.capacity.maxBacklogMs,
    maxFrameBytes: config.maxFrameBytes,
    maxBufferedBytes: config.maxBufferedBytes,
    maxStreams: config.maxStreams,
  };
}
