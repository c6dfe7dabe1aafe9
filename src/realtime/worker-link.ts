import type { FastifyBaseLogger } from 'fastify';
import type { DictionarySource } from '../pipeline/glossary.js';
import type { PipelineEvent } from '../pipeline/translation-pipeline.js';
import type { Leg2Config } from './leg2-protocol.js';

/**
 * A worker's event as the gateway receives it: a {@link PipelineEvent} other than audio (which
 * comes as bare PCM, {@link WorkerLinkHandlers.onAudio}). In one process it is the pipeline's own
 * object; from a remote worker it is decoded from leg 2 (leg2-events.ts), where an `error`'s
 * `cause` stays on the worker (undefined).
 */
export type WorkerEvent = Exclude<PipelineEvent, { type: 'audio' }>;

/** What a {@link WorkerLink} delivers to the gateway's connection. */
export interface WorkerLinkHandlers {
  /**
   * A worker's event, in the order the pipeline emitted it: transcripts, translations (with their
   * latency), `utterance-end` (never forwarded to a client as such), or an `error` (leg 2 then
   * closes with 4000 + status).
   */
  onEvent(event: WorkerEvent): void;
  /** Synthesized PCM, s16le mono at the config's rate, untouched. */
  onAudio(pcm: Buffer): void;
  /**
   * Leg 2 ended. `code` 1000: finished after {@link WorkerLink.drain}; 1001: the worker is going
   * away (it drained its streams); 4000 + status: after an `error` event (already delivered);
   * anything else (1006…): the worker died or the link broke. Called once, never after
   * {@link WorkerLink.close}.
   */
  onClose(code: number, reason: string): void;
}

/** Options of {@link WorkerLinks.open}. */
export interface WorkerLinkOptions {
  handlers: WorkerLinkHandlers;
  /**
   * The stream's live dictionary (the organization's glossary merged with the config's): the
   * in-process link reads it before each utterance; the remote link polls it and sends a
   * `dictionary` frame when it changes, so terms added mid-stream apply to later utterances.
   */
  dictionary?: DictionarySource | undefined;
  log: FastifyBaseLogger;
}

/**
 * The gateway's side of leg 2 (spec 002 Part 2 step 4, docs/architecture.md "Processes"): one open stream on a worker,
 * in this process (role `all`) or over a WebSocket (role `gateway`). Audio passes both ways
 * untouched; the worker's events arrive typed (JSON exists only on leg 2's socket).
 */
export interface WorkerLink {
  /** The worker that acknowledged the stream. */
  readonly workerId: string;
  /**
   * Audio the worker has not taken yet, in ms of the stream's audio: the gateway stops reading
   * its client while it is high (flow control, docs/stream-protocol.md).
   */
  readonly backlogMs: number;
  /**
   * Forwards a binary PCM frame.
   * @param arrivedAtMs - wall time it reached the gateway (used in-process; a remote worker stamps arrival itself).
   */
  sendAudio(frame: Buffer, arrivedAtMs?: number): void;
  /**
   * Stops the audio and lets the worker finish the utterance in flight (its events still reach
   * the handlers) for at most `timeoutMs`; resolves once leg 2 has closed (then `onClose` has run).
   */
  drain(timeoutMs: number): Promise<void>;
  /** Ends leg 2 at once; no handler is called afterwards. Idempotent. */
  close(): void;
}

/** How a gateway opens leg 2: picks a worker, sends the config, waits for its acknowledgement. */
export interface WorkerLinks {
  /**
   * Opens a stream for `config`.
   * @throws {WorkerRefusedError} when no worker takes it (status 429 when every worker is full,
   *   500 when none is reachable, the worker's status when it rejects the config).
   */
  open(config: Leg2Config, options: WorkerLinkOptions): Promise<WorkerLink>;
  /** Workers this process can reach right now, with their load (for `/metrics`). */
  snapshot(): Promise<WorkerLoad[]>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** A worker as the registry (or the in-process link) reports it. */
export interface WorkerLoad {
  id: string;
  /** Live streams. */
  load: number;
  /** Streams it accepts (`TOLK_MAX_STREAMS` of the worker). */
  capacity: number;
}

/** No worker took the stream; the client gets an `error` event with `status` and close 4000 + status. */
export class WorkerRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(description);
    this.name = 'WorkerRefusedError';
  }
}
