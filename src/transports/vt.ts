import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { openStream, type GatewayStream } from '../gateway/stream-service.js';
import { audioProblem } from '../audio/pcm.js';
import { streamConfigSchema, type StreamConfig } from '../gateway/stream-config.js';
import type { LiveConnection } from '../realtime/connection-registry.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { errorEvent, renderEvent } from '../realtime/stream-events.js';
import type { WorkerEvent } from '../realtime/worker-link.js';
import { MAX_REFERENCE_ID_CHARS, referenceIdOf } from './vt-reference-id.js';
import { firstIssueDescription, parseJsonMessage, WsChannel } from './ws-channel.js';

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
  private readonly earlyAudio: Array<{ data: Buffer; arrivedAtMs: number }> = [];
  private earlyAudioMs = 0;
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
      // Audio sent right after the config waits (bounded) until the worker has acknowledged.
      this.earlyAudioMs += this.durationMsOf(data);
      if (this.earlyAudioMs > MAX_EARLY_AUDIO_MS) {
        return this.fail(429, `Too much audio before the stream started: more than ${MAX_EARLY_AUDIO_MS / 1000} s at ${this.sampleRateHz} Hz`);
      }
      this.earlyAudio.push({ data: Buffer.from(data), arrivedAtMs: Date.now() });
      return;
    }
    if (this.state !== 'streaming') return;
    if (!isBinary) return this.sendError(400, 'Unexpected text message: after the config only binary audio is accepted');
    this.stream?.link.sendAudio(data);
    this.idleTimer.touch();
    this.stream?.audioReceived(this.durationMsOf(data));
    this.channel.checkBackpressure();
  }

  /**
   * Reads the config message: its `reference_id` (echoed from then on, at most
   * {@link MAX_REFERENCE_ID_CHARS} characters), its shape and defaults, and the declared rate at
   * which audio sent meanwhile is measured. Undefined, after failing the connection with 400, when
   * the message is not a valid config.
   */
  private parseConfig(text: string): StreamConfig | undefined {
    const message = parseJsonMessage(text, 'config message');
    if (!message.ok) {
      this.fail(400, message.description);
      return undefined;
    }
    const json = message.json;
    const ref = referenceIdOf(json);
    if (ref !== undefined && ref.length > MAX_REFERENCE_ID_CHARS) {
      this.fail(400, `Malformed config message: config.metadata.reference_id: at most ${MAX_REFERENCE_ID_CHARS} characters (got ${ref.length})`);
      return undefined;
    }
    this.referenceId = ref;
    const parsed = streamConfigSchema.safeParse(json);
    if (!parsed.success) {
      this.fail(400, firstIssueDescription(parsed.error, 'config message'));
      return undefined;
    }
    const config = parsed.data.config;
    // An unsupported rate is refused once the key is checked; until then 16 kHz measures early audio.
    if (!audioProblem(config.audio)) this.sampleRateHz = config.audio.sample_rate;
    return config;
  }

  private async configure(text: string): Promise<void> {
    const config = this.parseConfig(text);
    if (!config) return;
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
    for (const chunk of this.earlyAudio.splice(0)) {
      stream.link.sendAudio(chunk.data, chunk.arrivedAtMs);
      stream.audioReceived(this.durationMsOf(chunk.data));
    }
    this.ctx.metrics.streamStarted('vt');
  }

  /** Duration of a frame of s16le mono at the stream's rate, in ms. */
  private durationMsOf(frame: Buffer): number {
    return (Math.floor(frame.length / 2) * 1000) / this.sampleRateHz;
  }

  /** A worker's event: rendered for the client (spec 002 Part 1); finals and translations recorded when sent. */
  private onWorkerEvent(event: WorkerEvent): void {
    if (event.type === 'utterance-end') {
      // Latency marks of an utterance still reach the session while the connection closes.
      this.stream?.session.utteranceEnded(event);
      if (this.state === 'closed') return;
      this.ctx.metrics.observeUtterance(event.latency);
      this.ctx.onUtterance?.(event);
      return;
    }
    const text = renderEvent(event, this.referenceId);
    if (text === undefined || this.state === 'closed' || !this.channel.send(text)) return;
    // Recorded the moment it is sent: nothing a client saw is lost if a process dies.
    if (event.type === 'transcript' && event.final) this.stream?.session.finalSent(event);
    else if (event.type === 'translation') this.stream?.session.translationSent(event);
  }

  /** Leg 2 ended without the gateway asking (a drain or shutdown of its own ignores this). */
  private onWorkerClose(code: number, reason: string): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    if (code === 1000 || code === 1001 || (code >= 4000 && code < 5000)) {
      // The worker finished, is shutting down (1001: reconnect elsewhere), or sent its error event.
      this.channel.close(code, code === 1001 ? 'Server shutting down' : reason);
      void this.shutdown();
      return;
    }
    this.log.warn({ code, reason }, 'leg 2 dropped: the worker died');
    this.ctx.metrics.leg2Failure('died');
    this.fail(500, 'Server failed to process the request: the translation worker stopped; start a new stream');
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
   * Graceful end for a server shutting down (DESIGN §2, SIGTERM): stops taking audio, lets the
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
   * Ends the stream (idempotent): the worker finishes the utterance in flight quietly (its marks
   * are still recorded), then leg 2 and the session stream close.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.channel.stop();
    this.idleTimer.stop();
    if (this.counted) this.ctx.activeStreams.delete(this);
    await this.stream?.close(FINISH_TIMEOUT_MS);
  }
}
