import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { ZodError } from 'zod';
import { closeReason } from '../common/close-reason.js';
import { WsBackpressure } from './ws-backpressure.js';

/** What a {@link WsChannel} does for its transport, and what it tells it. */
export interface WsChannelOptions {
  /** Largest inbound message, in bytes; a larger one goes to `onOversize`, never to `onMessage`. */
  maxFrameBytes: number;
  /**
   * Outbound bytes queued in the socket beyond which the peer counts as not reading: the socket is
   * terminated (its backlog would otherwise grow without bound) and `onClose` follows.
   */
  maxBufferedBytes: number;
  /** The transport's name in log lines (`vt`, `leg 2`, …). */
  label: string;
  log: FastifyBaseLogger;
  /** A message within the frame limit. A throw or a rejection goes to `onFailure`. */
  onMessage(data: Buffer, isBinary: boolean): void | Promise<void>;
  /** A message over the frame limit, with the description to give the peer. */
  onOversize(description: string): void;
  /** `onMessage` failed (already logged): the transport answers its 500. */
  onFailure(err: unknown): void;
  /** The socket closed, from either side or terminated. Called once. */
  onClose(): void;
  /**
   * The consumer's backlog now, in ms (leg 2's or the recognizer's): reading pauses while it is
   * over the limit of {@link WsBackpressure}; undefined when there is nothing to wait for.
   */
  backlogMs?: () => number | undefined;
  /**
   * Liveness of the channel's own, for peers that must notice a dead side faster than the
   * server-wide heartbeat (leg 2): a ping every `pingIntervalMs` (they flow while reading is
   * paused), and the socket is terminated after `silenceTimeoutMs` without a frame, ping or pong.
   */
  liveness?: { pingIntervalMs: number; silenceTimeoutMs: number };
}

/**
 * One WebSocket as every transport uses it (spec 002 Parts 1 and 3, spec 003): the inbound frame
 * limit, a guarded send that drops a peer that stopped reading, backpressure towards a slow
 * consumer, optional liveness, and close reasons that always fit a close frame. A transport
 * adapter keeps only its wire format and its state machine.
 */
export class WsChannel {
  private readonly backpressure: WsBackpressure | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private lastHeardAtMs = Date.now();
  private closed = false;

  constructor(private readonly ws: WebSocket, private readonly options: WsChannelOptions) {
    if (options.backlogMs) this.backpressure = new WsBackpressure(ws, options.backlogMs);
    ws.on('message', (data, isBinary) => void this.receive(data as Buffer, isBinary));
    ws.on('close', () => this.onClosed());
    ws.on('error', (err) => options.log.warn({ err }, `${options.label} socket error`));
    if (options.liveness) this.watchLiveness(options.liveness);
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Sends a frame (text or binary).
   * @returns false when it was not sent: the socket is closing, or the peer stopped reading and
   *   the socket was terminated.
   */
  send(data: string | Buffer): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.options.log.warn({ bufferedBytes: this.ws.bufferedAmount }, `${this.options.label} peer not reading; disconnecting`);
      this.ws.terminate();
      return false;
    }
    this.ws.send(data);
    return true;
  }

  /** Sends `message` as a JSON text frame; false when not sent (see {@link send}). */
  sendJson(message: object): boolean {
    return this.send(JSON.stringify(message));
  }

  /** Closes with `code` and `reason`, cut to fit a close frame on a character boundary. No-op once closing. */
  close(code: number, reason: string): void {
    if (this.isOpen) this.ws.close(code, closeReason(reason));
  }

  /** Call after each inbound audio frame: pauses reading while the consumer is behind. */
  checkBackpressure(): void {
    this.backpressure?.check();
  }

  /** Reads again for good (a drain or the end of the stream; idempotent). */
  releaseBackpressure(): void {
    this.backpressure?.release();
  }

  /** Stops the channel's timers and reads again (idempotent); the transport calls it when it ends. */
  stop(): void {
    clearInterval(this.pinger);
    this.pinger = undefined;
    this.backpressure?.release();
  }

  private async receive(data: Buffer, isBinary: boolean): Promise<void> {
    this.lastHeardAtMs = Date.now();
    const { maxFrameBytes } = this.options;
    if (data.length > maxFrameBytes) return this.options.onOversize(`Message of ${data.length} bytes exceeds the ${maxFrameBytes}-byte limit`);
    try {
      await this.options.onMessage(data, isBinary);
    } catch (err) {
      this.options.log.error({ err }, `${this.options.label} message handling failed`);
      this.options.onFailure(err);
    }
  }

  private watchLiveness(liveness: { pingIntervalMs: number; silenceTimeoutMs: number }): void {
    const heard = (): void => void (this.lastHeardAtMs = Date.now());
    this.ws.on('pong', heard);
    this.ws.on('ping', heard);
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeardAtMs > liveness.silenceTimeoutMs) this.ws.terminate();
      else if (this.isOpen) this.ws.ping();
    }, liveness.pingIntervalMs);
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.options.onClose();
  }
}

/** A text frame parsed as JSON, or the description of why it is not JSON. */
export type JsonMessage = { ok: true; json: unknown } | { ok: false; description: string };

/**
 * Parses a text frame as JSON; `what` names the message in the description
 * (`Malformed JSON in the config message`).
 */
export function parseJsonMessage(text: string, what: string): JsonMessage {
  try {
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, description: `Malformed JSON in the ${what}` };
  }
}

/**
 * The first validation issue of a message, as every transport reports it:
 * `Malformed <what>: <path>: <message>` (`Malformed config message: config.audio.sample_rate: …`).
 */
export function firstIssueDescription(error: ZodError, what: string): string {
  const issue = error.issues[0];
  return `Malformed ${what}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
}
