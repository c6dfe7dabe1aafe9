import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { openStream, type GatewayStream } from '../gateway/stream-service.js';
import type { LiveConnection } from '../realtime/connection-registry.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { errorEvent, renderEvent } from '../realtime/stream-events.js';
import type { WorkerEvent } from '../realtime/worker-link.js';
import { EarlyAudio } from '../core/early-audio.js';
import { parseVtConfig } from './vt-config.js';
import { WsChannel } from './ws-channel.js';

/** Audio accepted between the config and the start of the pipeline, in ms at the declared rate. */
const MAX_EARLY_AUDIO_MS = 30_000;
/** On a client's close, how long the worker may take to finish the utterance in flight, in ms. */
const FINISH_TIMEOUT_MS = 2000;

/**
 * One `/vt` connection: the adapter of spec 002 Part 1 over the stream service
 * ({@link openStream}, which does Part 2 steps 1–4: key, checks, slot, admission, platform session,
 * leg-2 config, worker). It reads the config message, queues audio sent before the stream starts,
 * forwards audio with backpressure, renders the worker's typed events as Part 1 JSON and records
 * the finals and translations it sends, and ends idle sockets. Every failure is an `error` event
 * followed by a close with 4000 + status.
 */
export class VtConnection implements LiveConnection {
  private state: 'awaiting-config' | 'starting' | 'streaming' | 'draining' | 'closed' = 'awaiting-config';
  private referenceId: string | undefined;
  /** The open stream (leg 2, session, admission, slot), once the stream service opened it. */
  private stream: GatewayStream | undefined;
  private sampleRateHz = 16000;
  /** The socket: frame limit, guarded send, backpressure while the worker is behind, byte-safe close. */
  private readonly channel: WsChannel;
  private counted = false;
  /** The end of the connection, once it began. */
  private ending: Promise<void> | undefined;
  /** Audio sent right after the config waits (bounded) until the worker has acknowledged. */
  private readonly earlyAudio = new EarlyAudio(MAX_EARLY_AUDIO_MS);
  /** Ends a socket that sends no config, then a stream that sends no audio (docs/stream-protocol.md). */
  private readonly idleTimer = new IdleTimer(() => {
    const limits = this.ctx.config.streamLimits;
    if (this.state === 'awaiting-config') this.fail(408, `No config message within ${limits.configTimeoutMs / 1000} s of connecting`);
    else if (this.state === 'streaming') this.fail(408, `No audio received for ${limits.idleAudioTimeoutMs / 1000} s`);
  });

  constructor(
    private readonly ctx: AppContext,
    ws: WebSocket,
    /** The key sent on connect (query string or `Authorization` header, see `connectKey`). */
    private readonly connectKey: string | undefined,
    private readonly log: FastifyBaseLogger,
  ) {
    this.channel = new WsChannel(ws, {
      maxFrameBytes: ctx.config.maxFrameBytes, maxBufferedBytes: ctx.config.maxBufferedBytes, label: 'vt', log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: (description) => this.fail(400, description),
      onFailure: () => this.fail(500, 'Server failed to process the request'),
      onClose: () => void this.shutdown(),
      // A stream that is not streaming has nothing to wait for.
      backlogMs: () => (this.state === 'streaming' ? this.stream?.link.backlogMs : undefined),
    });
    this.idleTimer.arm(ctx.config.streamLimits.configTimeoutMs);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.state === 'awaiting-config') {
      if (isBinary) return this.fail(400, 'Binary audio received before the config message; send the config JSON first');
      this.state = 'starting';
      await this.configure(data.toString('utf8'));
      return;
    }
    if (this.state === 'starting') {
      if (!isBinary) return this.sendError(400, 'The config message was already received');
      if (!this.earlyAudio.push(data, this.durationMsOf(data))) {
        return this.fail(429, `Too much audio before the stream started: more than ${MAX_EARLY_AUDIO_MS / 1000} s at ${this.sampleRateHz} Hz`);
      }
      return;
    }
    if (this.state !== 'streaming') return;
    if (!isBinary) return this.sendError(400, 'Unexpected text message: after the config only binary audio is accepted');
    this.stream?.link.sendAudio(data);
    this.idleTimer.touch();
    this.stream?.audioReceived(this.durationMsOf(data));
    this.channel.checkBackpressure();
  }

  private async configure(text: string): Promise<void> {
    const message = parseVtConfig(text);
    this.referenceId = message.referenceId;
    if (!message.ok) return this.fail(400, message.description);
    const config = message.config;
    this.sampleRateHz = message.sampleRateHz;
    this.ctx.activeStreams.add(this);
    this.counted = true;
    const result = await openStream(this.ctx, {
      key: this.connectKey ?? config.api_key, config, connection: this, log: this.log,
      handlers: { onEvent: (e) => this.onWorkerEvent(e), onAudio: (pcm) => this.channel.send(pcm), onClose: (code, reason) => this.onWorkerClose(code, reason) },
      isOpen: () => this.state === 'starting',
    });
    if (!result.ok) {
      if ('status' in result) this.fail(result.status, result.description);
      return;
    }
    const stream = result.stream;
    this.stream = stream;
    this.state = 'streaming';
    // From now on the timer measures the client's silence.
    this.idleTimer.arm(this.ctx.config.streamLimits.idleAudioTimeoutMs);
    for (const early of this.earlyAudio.take()) {
      stream.link.sendAudio(early.pcm, early.arrivedAtMs);
      stream.audioReceived(this.durationMsOf(early.pcm));
    }
    this.ctx.metrics.streamStarted('vt');
  }

  /** Duration of a frame of s16le mono at the stream's rate, in ms. */
  private durationMsOf(frame: Buffer): number {
    return (Math.floor(frame.length / 2) * 1000) / this.sampleRateHz;
  }

  /** A worker's event, rendered for the client (spec 002 Part 1); the service records what was delivered. */
  private onWorkerEvent(event: WorkerEvent): void {
    const text = renderEvent(event, this.referenceId);
    if (text === undefined || this.state === 'closed' || !this.channel.send(text)) return;
    this.stream?.delivered(event);
  }

  /** Leg 2 ended without the gateway asking (after a drain or shutdown of its own, ignored): the client's socket closes alike. */
  private onWorkerClose(code: number, reason: string): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.channel.close(code, code === 1001 ? 'Server shutting down' : reason);
    void this.shutdown();
  }

  private sendError(status: number, description: string): void {
    this.channel.send(errorEvent(status, description, this.referenceId));
  }

  /**
   * Ends the connection from outside (the session runtime, e.g. a revoked participant): an `error`
   * event with `status`, then a close with 4000 + status. Idempotent.
   */
  disconnect(status: number, description: string): void {
    this.fail(status, description);
  }

  /** Sends the error event and closes with 4000 + status. */
  private fail(status: number, description: string): void {
    if (this.state === 'closed') return;
    this.sendError(status, description);
    this.channel.close(4000 + status, description);
    void this.shutdown();
  }

  /**
   * Graceful end for a server shutting down (docs/architecture.md "Processes", SIGTERM): stops taking audio, lets the
   * worker finish the utterance in flight — its final, translation and speech are sent and
   * persisted — for at most `timeoutMs`, then closes with 1001 (going away).
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state !== 'streaming') {
      this.channel.close(1001, 'Server shutting down');
      return this.shutdown();
    }
    this.state = 'draining';
    this.channel.releaseBackpressure();
    await this.stream?.link.drain(timeoutMs);
    this.channel.close(1001, 'Server shutting down');
    await this.shutdown();
  }

  /**
   * Ends the stream (idempotent; every call resolves when it has ended): the worker finishes the
   * utterance in flight quietly (its marks are still recorded), then leg 2 and the session stream
   * close. The connection counts as live until then, so a server closing waits for it.
   */
  shutdown(): Promise<void> {
    return (this.ending ??= (async () => {
      this.state = 'closed';
      this.channel.stop();
      this.idleTimer.stop();
      try {
        await this.stream?.close(FINISH_TIMEOUT_MS);
      } finally {
        if (this.counted) this.ctx.activeStreams.delete(this);
      }
    })());
  }
}
