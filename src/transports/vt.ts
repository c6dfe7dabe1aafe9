import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { StreamSession, type StreamTransport } from '../core/stream-session.js';
import { streamSessionDeps } from '../gateway/stream-service.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { errorEvent, renderEvent } from '../realtime/stream-events.js';
import { parseVtConfig, vtStreamRequest } from './vt-config.js';
import { WsChannel } from './ws-channel.js';

/**
 * One `/vt` connection: the wire mapper of spec 002 Part 1 over a {@link StreamSession}
 * (docs/architecture.md "Stream session"), which owns the stream's life (early audio, idle timeout,
 * revocation, usage, worker death, drain, close). The adapter reads the config message into a
 * `StreamRequest`, passes binary audio on with backpressure, and renders the session's events as
 * Part 1 JSON; every failure is an `error` event followed by a close with 4000 + status.
 */
export class VtConnection {
  private referenceId: string | undefined;
  /** The stream, once the config message was read. */
  private session: StreamSession | undefined;
  /** The socket: frame limit, guarded send, backpressure while the worker is behind, byte-safe close. */
  private readonly channel: WsChannel;
  private closed = false;
  /** Ends a socket that sends no config (docs/stream-protocol.md); the session times out silence after it. */
  private readonly configTimer = new IdleTimer(() => {
    if (!this.session) this.fail(408, `No config message within ${this.ctx.config.streamLimits.configTimeoutMs / 1000} s of connecting`);
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
      backlogMs: () => this.session?.backlogMs,
    });
    this.configTimer.arm(ctx.config.streamLimits.configTimeoutMs);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    const session = this.session;
    if (!session) {
      if (this.closed) return;
      if (isBinary) return this.fail(400, 'Binary audio received before the config message; send the config JSON first');
      this.configTimer.stop();
      return this.configure(data.toString('utf8'));
    }
    if (session.state !== 'opening' && session.state !== 'streaming') return;
    if (!isBinary) {
      return this.sendError(400, session.state === 'opening' ? 'The config message was already received' : 'Unexpected text message: after the config only binary audio is accepted');
    }
    session.pushAudio(data);
    this.channel.checkBackpressure();
  }

  private async configure(text: string): Promise<void> {
    const message = parseVtConfig(text);
    this.referenceId = message.referenceId;
    if (!message.ok) return this.fail(400, message.description);
    this.session = new StreamSession(streamSessionDeps(this.ctx), 'vt', vtStreamRequest(message.config, this.connectKey), this.transport(), this.log);
    await this.session.start();
  }

  /** How the session reaches the client: events as Part 1 JSON, speech as binary frames, the end as error + close. */
  private transport(): StreamTransport {
    return {
      event: (event) => {
        const text = renderEvent(event, this.referenceId);
        return text !== undefined && this.channel.send(text);
      },
      audio: (pcm) => void this.channel.send(pcm),
      end: (end) => {
        if ('status' in end) this.sendError(end.status, end.description);
        this.channel.close('status' in end ? 4000 + end.status : end.code, 'status' in end ? end.description : end.reason);
        void this.shutdown();
      },
      draining: () => this.channel.releaseBackpressure(),
    };
  }

  private sendError(status: number, description: string): void {
    this.channel.send(errorEvent(status, description, this.referenceId));
  }

  /** Sends the error event and closes with 4000 + status (through the session once there is one). */
  private fail(status: number, description: string): void {
    if (this.session) return this.session.fail(status, description);
    if (this.closed) return;
    this.sendError(status, description);
    this.channel.close(4000 + status, description);
    void this.shutdown();
  }

  /**
   * Ends the connection (idempotent; resolves when the stream has ended): the socket stops, and the
   * session lets the utterance in flight finish quietly, then gives everything back.
   */
  shutdown(): Promise<void> {
    this.closed = true;
    this.configTimer.stop();
    this.channel.stop();
    return this.session?.shutdown() ?? Promise.resolve();
  }
}
