import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { ackMessage, leg2ConfigSchema, parseControlMessage } from '../realtime/leg2-protocol.js';
import { encodeWorkerEvent } from '../realtime/leg2-events.js';
import { errorEvent } from '../realtime/stream-events.js';
import { openWorkerStream, type HeldWorkerStream, type WorkerRuntime } from '../realtime/worker-runtime.js';
import type { WorkerStream } from '../realtime/worker-stream.js';
import { firstIssueDescription, parseJsonMessage, WsChannel } from './ws-channel.js';

/** How long a gateway has to send the config after the upgrade, in ms. */
const CONFIG_TIMEOUT_MS = 10_000;
/**
 * Ping period towards the gateway, in ms: the gateway counts a worker it has not heard from for
 * 3 s as dead, and pings keep flowing while this side pauses reading under backpressure.
 */
const PING_INTERVAL_MS = 1000;
/** Silence from the gateway (no frame, ping or pong) after which it counts as gone, in ms. */
const SILENCE_TIMEOUT_MS = 15_000;

/**
 * A worker's end of one leg-2 connection (spec 002 Part 3), the adapter of leg 2's wire format
 * over the worker's stream service ({@link openWorkerStream}): the first text frame is the merged
 * config; invalid → `error` 400 and close 4400; worker full or shutting down → `error` 429 and
 * close 4429 (the gateway tries another worker); then the worker sends its `ack`, takes binary PCM
 * and control frames, and sends the stream's events encoded as text frames (leg2-events.ts) and
 * synthesized PCM until either side closes.
 */
export class Leg2Connection implements HeldWorkerStream {
  private state: 'awaiting-config' | 'starting' | 'streaming' | 'closed' = 'awaiting-config';
  private stream: WorkerStream | undefined;
  private referenceId: string | undefined;
  /** The socket: frame limit, guarded send, backpressure while the recognizer is behind, pings. */
  private readonly channel: WsChannel;
  private readonly configTimer: NodeJS.Timeout;

  constructor(
    private readonly rt: WorkerRuntime,
    ws: WebSocket,
    private readonly log: FastifyBaseLogger,
  ) {
    this.channel = new WsChannel(ws, {
      maxFrameBytes: rt.settings.maxFrameBytes, maxBufferedBytes: rt.settings.maxBufferedBytes, label: 'leg 2', log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: (description) => this.refuse(400, description),
      onFailure: () => this.refuse(500, 'Server failed to process the request'),
      onClose: () => void this.shutdown(),
      backlogMs: () => (this.state === 'streaming' ? this.stream?.backlogMs : undefined),
      liveness: { pingIntervalMs: PING_INTERVAL_MS, silenceTimeoutMs: SILENCE_TIMEOUT_MS },
    });
    this.configTimer = setTimeout(() => this.refuse(400, `No config received within ${CONFIG_TIMEOUT_MS} ms`), CONFIG_TIMEOUT_MS);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.state === 'awaiting-config') {
      clearTimeout(this.configTimer);
      if (isBinary) return this.refuse(400, 'Binary audio received before the leg-2 config');
      this.state = 'starting';
      await this.start(data.toString('utf8'));
      return;
    }
    if (this.state !== 'streaming' || !this.stream) return;
    if (isBinary) {
      this.stream.pushAudio(data);
      this.channel.checkBackpressure();
      return;
    }
    const control = parseControlMessage(data.toString('utf8'));
    if (control.type === 'drain') await this.stream.drain(control.timeoutMs, 1000, 'Stream finished');
    else if (control.type === 'dictionary') this.stream.updateDictionary(control.dictionary);
  }

  private async start(text: string): Promise<void> {
    const message = parseJsonMessage(text, 'leg-2 config');
    if (!message.ok) return this.refuse(400, message.description);
    const parsed = leg2ConfigSchema.safeParse(message.json);
    if (!parsed.success) return this.refuse(400, firstIssueDescription(parsed.error, 'leg-2 config'));
    const config = parsed.data;
    const ref = config.metadata.reference_id;
    if (typeof ref === 'string' || typeof ref === 'number') this.referenceId = String(ref);
    const opened = await openWorkerStream(this.rt, config, this, {
      event: (event) => {
        for (const frame of encodeWorkerEvent(event, this.referenceId)) this.channel.send(frame);
      },
      audio: (pcm) => this.channel.send(pcm),
      end: (code, reason) => {
        this.channel.close(code, reason);
        void this.shutdown();
      },
    }, this.log);
    if (!opened.ok) return this.refuse(opened.status, opened.description);
    if (this.state !== 'starting') {
      await opened.stream.close();
      return;
    }
    this.stream = opened.stream;
    this.state = 'streaming';
    this.channel.send(ackMessage(config.request_id, this.rt.workerId));
    this.rt.metrics.streamStarted('leg2');
    this.log.info({ requestId: config.request_id, source: config.source_lang, target: config.target_lang }, 'leg 2 stream started');
  }

  /** Sends an `error` event and closes with 4000 + status. */
  private refuse(status: number, description: string): void {
    if (this.state === 'closed') return;
    this.channel.send(errorEvent(status, description, this.referenceId));
    this.channel.close(4000 + status, description);
    void this.shutdown();
  }

  /**
   * The worker shuts down (SIGTERM): stops taking audio, finishes the utterance in flight for at
   * most `timeoutMs`, then closes leg 2 with 1001 — the gateway closes its client with 1001.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state === 'streaming' && this.stream) {
      this.channel.releaseBackpressure();
      await this.stream.drain(timeoutMs, 1001, 'Worker shutting down');
    } else {
      this.channel.close(1001, 'Worker shutting down');
    }
    await this.shutdown();
  }

  /** Ends the connection (idempotent) and releases its pipeline. */
  async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.configTimer);
    this.channel.stop();
    if (this.rt.streams.delete(this)) this.rt.loadChanged();
    const s = this.stream;
    this.stream = undefined;
    await s?.close();
  }
}
