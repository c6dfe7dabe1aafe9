import type { FastifyBaseLogger } from 'fastify';
import { audioProblem } from '../audio/pcm.js';
import type { LiveConnection } from '../realtime/connection-registry.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import type { WorkerEvent, WorkerLinkHandlers } from '../realtime/worker-link.js';
import { EarlyAudio } from './early-audio.js';
import { pcmDurationMs, type StreamRequest } from './stream-request.js';

/** Audio accepted between the request and the start of the stream, in ms at the declared rate. */
export const MAX_EARLY_AUDIO_MS = 30_000;
/** On a close, how long the worker may take to finish the utterance in flight, in ms. */
const FINISH_TIMEOUT_MS = 2000;

/** The surfaces whose streams a {@link StreamSession} runs (the `surface` label of `tolk_streams_active`). */
export type StreamSurface = 'vt' | 'calls' | 'livekit' | 'phone' | 'single' | 'room';

/**
 * How a stream ends for its client: `status` — an HTTP status, sent as the surface's error then a
 * close with 4000 + status; `code` — a close passed on as it is (1000 finished, 1001 going away, or
 * the 4xxx of a worker's error already delivered as an event).
 */
export type StreamEnd = { status: number; description: string } | { code: number; reason: string };

/**
 * The port a surface gives its {@link StreamSession}: the session calls it, the surface renders in
 * its own wire format. None of its methods may throw.
 */
export interface StreamTransport {
  /**
   * A worker's typed event (never `utterance-end`); true when it reached the client (it is then
   * recorded), or a promise of it for a surface that learns so later (a LiveKit data message).
   */
  event(event: WorkerEvent): boolean | Promise<boolean>;
  /** Synthesized speech: s16le mono at the request's rate. */
  audio(pcm: Buffer): void;
  /** The stream ended (once): tell the client and close (see {@link StreamEnd}). */
  end(end: StreamEnd): void;
  /** A drain began: stop holding the client back (read again). Optional. */
  draining?(): void;
}

/** An open stream as the stream service hands it over (leg 2 on a worker, slot, admission, session). */
export interface OpenedStream {
  readonly link: { readonly backlogMs: number; sendAudio(pcm: Buffer, arrivedAtMs?: number): void; drain(timeoutMs: number): Promise<void> };
  audioReceived(durationMs: number): void;
  delivered(event: WorkerEvent): void;
  close(finishTimeoutMs: number): Promise<void>;
  /**
   * Places the stream on another worker (same slot, admission and platform session), for
   * {@link StreamSessionOptions.replaceLostWorker}.
   * @throws {Error} when no worker has room or a store fails.
   */
  replaceWorker?(): Promise<void>;
}

/** How a surface wants its {@link StreamSession} to behave where surfaces differ. */
export interface StreamSessionOptions {
  /**
   * A worker that died (4500) or shuts down (1001) is replaced by another rather than ending the
   * stream: audio meanwhile is kept as early audio (docs/architecture.md "Processes": a LiveKit
   * speaker has no client to reconnect). When no worker has room the stream ends with 503.
   */
  replaceLostWorker?: boolean;
}

/** What {@link StreamSession.pushAudio} may say of a chunk of audio. */
export interface PushedAudio {
  /** When it arrived, epoch ms (a surface that held it before the session existed); now by default. */
  arrivedAtMs?: number;
  /**
   * False for audio that does not count against the idle timeout (a LiveKit microphone's
   * silence: the track sends frames whether anyone speaks or not). True by default.
   */
  keepsAlive?: boolean;
}

/** What {@link StreamOpener} is asked: the request, and where the worker's events and end go. */
export interface StreamOpening {
  request: StreamRequest;
  /** What a revocation (key rotated or deleted, participant revoked) or a drain ends. */
  connection: LiveConnection;
  handlers: WorkerLinkHandlers;
  /** False once the client has left: the opener undoes what it did and answers `gone`. */
  isOpen: () => boolean;
  log: FastifyBaseLogger;
}

/** The opener's answer: the stream, a refusal (its status and description), or `gone`. */
export type OpenResult = { ok: true; stream: OpenedStream } | { ok: false; status: number; description: string } | { ok: false; gone: true };

/**
 * Opens a stream (the stream service: key, checks, slot, admission, session, worker).
 * @throws {Error} when a store fails (the session ends with 500).
 */
export type StreamOpener = (opening: StreamOpening) => Promise<OpenResult>;

/** What a {@link StreamSession} needs of its process. */
export interface StreamSessionDeps {
  open: StreamOpener;
  /** No audio for this long, in ms, ends a streaming session with 408 (`TOLK_IDLE_AUDIO_TIMEOUT_MS`). */
  idleAudioTimeoutMs: number;
  /** The process's live streams (drained on SIGTERM, counted in `tolk_streams_active` by surface). */
  live: { add(session: StreamSession): void; delete(session: StreamSession): void };
  /** Counts a stream started on a surface (`tolk_streams_started_total`). */
  streamStarted(surface: StreamSurface): void;
}

/** The life of a stream: opening → streaming → draining → closed (closed may follow any state). */
export type StreamState = 'opening' | 'streaming' | 'draining' | 'closed';

/**
 * One stream's life for any surface (docs/architecture.md "Stream session"): it opens the stream
 * through the stream service, keeps audio sent meanwhile (bounded, {@link MAX_EARLY_AUDIO_MS}),
 * forwards audio and counts its usage, records what the client was delivered, ends a stream that
 * sends no audio for `idleAudioTimeoutMs` (408), ends when the key or participant behind it is
 * revoked (401/403, it is the registered {@link LiveConnection}), passes on a worker's death (500
 * then 4500), drains, and closes. It counts as a live stream of its surface from start to close.
 */
export class StreamSession implements LiveConnection {
  private current: StreamState = 'opening';
  private stream: OpenedStream | undefined;
  private ending: Promise<void> | undefined;
  /** True while a lost worker is being replaced ({@link StreamSessionOptions.replaceLostWorker}). */
  private replacing = false;
  private readonly earlyAudio = new EarlyAudio(MAX_EARLY_AUDIO_MS);
  /** The rate audio is measured at: the declared one, 16 kHz while an unsupported one awaits its refusal. */
  private readonly rateHz: number;
  private readonly idleTimer = new IdleTimer(() => {
    if (this.current === 'streaming') this.fail(408, `No audio received for ${this.deps.idleAudioTimeoutMs / 1000} s`);
  });

  constructor(
    private readonly deps: StreamSessionDeps,
    readonly surface: StreamSurface,
    readonly request: StreamRequest,
    private readonly transport: StreamTransport,
    private readonly log: FastifyBaseLogger,
    private readonly options: StreamSessionOptions = {},
  ) {
    this.rateHz = audioProblem({ format: request.audio.format, sample_rate: request.audio.sampleRateHz, channels: request.audio.channels }) ? 16000 : request.audio.sampleRateHz;
  }

  /** Where the stream is in its life. */
  get state(): StreamState {
    return this.current;
  }

  /** Audio the worker has not taken yet, in ms; undefined unless streaming (nothing to wait for). */
  get backlogMs(): number | undefined {
    return this.current === 'streaming' ? this.stream?.link.backlogMs : undefined;
  }

  /**
   * Opens the stream. A refusal ends it with its status; a failure of a store with 500.
   * @returns true when it is streaming.
   */
  async start(): Promise<boolean> {
    this.deps.live.add(this);
    let result: OpenResult;
    try {
      result = await this.deps.open({ request: this.request, connection: this, handlers: this.handlers(), isOpen: () => this.current === 'opening', log: this.log });
    } catch (err) {
      this.log.error({ err, surface: this.surface }, 'stream failed to open');
      this.fail(500, 'Server failed to process the request');
      return false;
    }
    if (!result.ok) {
      if ('status' in result) this.fail(result.status, result.description);
      else void this.shutdown();
      return false;
    }
    const stream = result.stream;
    if (this.current !== 'opening') {
      // Ended while the opener answered (early audio over its bound, a revocation): give it back.
      await stream.close(0);
      return false;
    }
    this.stream = stream;
    this.current = 'streaming';
    this.idleTimer.arm(this.deps.idleAudioTimeoutMs);
    this.flushEarlyAudio(stream);
    this.deps.streamStarted(this.surface);
    return true;
  }

  /**
   * The client's audio (s16le at the request's rate): kept while opening (or while a lost worker
   * is replaced), forwarded while streaming, else dropped. See {@link PushedAudio}.
   */
  pushAudio(pcm: Buffer, pushed: PushedAudio = {}): void {
    const durationMs = pcmDurationMs(pcm.length, this.rateHz);
    if (this.current === 'opening' || this.replacing) {
      if (!this.earlyAudio.push(pcm, durationMs, pushed.arrivedAtMs)) {
        this.fail(429, `Too much audio before the stream started: more than ${MAX_EARLY_AUDIO_MS / 1000} s at ${this.rateHz} Hz`);
      }
      return;
    }
    if (this.current !== 'streaming' || !this.stream) return;
    this.stream.link.sendAudio(pcm, pushed.arrivedAtMs);
    if (pushed.keepsAlive !== false) this.idleTimer.touch();
    this.stream.audioReceived(durationMs);
  }

  /** Sends the audio kept while opening or replacing a worker, with its arrival times. */
  private flushEarlyAudio(stream: OpenedStream): void {
    for (const early of this.earlyAudio.take()) {
      stream.link.sendAudio(early.pcm, early.arrivedAtMs);
      stream.audioReceived(pcmDurationMs(early.pcm.length, this.rateHz));
    }
  }

  /** {@inheritDoc LiveConnection.disconnect} */
  disconnect(status: number, description: string): void {
    this.fail(status, description);
  }

  /** Ends the stream with `status` (the surface's error, then close 4000 + status). Idempotent. */
  fail(status: number, description: string): void {
    if (this.current === 'closed') return;
    this.transport.end({ status, description });
    void this.shutdown();
  }

  /**
   * Graceful end for a server shutting down: stops taking audio, lets the worker finish the
   * utterance in flight (its events are still delivered) for at most `timeoutMs`, then closes 1001.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.current !== 'streaming') {
      if (this.current !== 'closed') this.transport.end({ code: 1001, reason: 'Server shutting down' });
      return this.shutdown();
    }
    this.current = 'draining';
    this.transport.draining?.();
    await this.stream?.link.drain(timeoutMs);
    this.transport.end({ code: 1001, reason: 'Server shutting down' });
    await this.shutdown();
  }

  /**
   * Ends the stream (idempotent; every call resolves when it has ended) without telling the client
   * (it left, or its surface already did): the utterance in flight finishes quietly, then leg 2,
   * the session, the admission and the slot are given back.
   */
  shutdown(): Promise<void> {
    return (this.ending ??= (async () => {
      this.current = 'closed';
      this.idleTimer.stop();
      try {
        await this.stream?.close(FINISH_TIMEOUT_MS);
      } finally {
        this.deps.live.delete(this);
      }
    })());
  }

  /** Where the worker's events, speech and end go. */
  private handlers(): WorkerLinkHandlers {
    return {
      // The utterance in flight may finish after a close: its events still reach the surface.
      onEvent: (event) => {
        const reached = this.transport.event(event);
        if (reached === true) this.stream?.delivered(event);
        else if (reached !== false) void reached.then((yes) => yes && this.stream?.delivered(event));
      },
      onAudio: (pcm) => this.transport.audio(pcm),
      // Leg 2 ended without the session asking (after a drain of its own, ignored): the client's end follows.
      onClose: (code, reason) => {
        if (this.current === 'closed' || this.current === 'draining') return;
        if ((code === 4500 || code === 1001) && this.options.replaceLostWorker && this.stream?.replaceWorker) {
          return void this.replaceWorker(this.stream, code, reason);
        }
        this.transport.end({ code, reason: code === 1001 ? 'Server shutting down' : reason });
        void this.shutdown();
      },
    };
  }

  /** Places the stream on another worker; audio meanwhile is kept and follows. 503 when none has room. */
  private async replaceWorker(stream: OpenedStream, code: number, reason: string): Promise<void> {
    if (this.replacing) return;
    this.log.warn({ code, reason, surface: this.surface }, 'stream lost its worker; placing it on another');
    this.replacing = true;
    try {
      await stream.replaceWorker?.();
    } catch (err) {
      this.log.error({ err, surface: this.surface }, 'stream could not be placed on another worker');
      this.replacing = false;
      return this.fail(503, 'No translation worker has room for the stream');
    }
    this.replacing = false;
    if (this.current === 'streaming') this.flushEarlyAudio(stream);
  }
}
