import type { FastifyBaseLogger } from 'fastify';
import { closeReason } from '../common/close-reason.js';
import { WsBackpressure } from './ws-backpressure.js';
import type { WebSocket } from 'ws';
import type { TolkMetrics } from '../metrics.js';
import { isLanguageTag } from '../common/language-tags.js';
import { checkLanguages, type Engines } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import { ackMessage, leg2ConfigSchema, parseControlMessage, type Leg2Config } from '../realtime/leg2-protocol.js';
import { encodeWorkerEvent } from '../realtime/leg2-events.js';
import { leg2ConfigProblem, WorkerStream } from '../realtime/worker-stream.js';
import { audioProblem } from '../gateway/stream-config.js';
import { errorEvent } from '../realtime/stream-events.js';

/** How long a gateway has to send the config after the upgrade, in ms. */
const CONFIG_TIMEOUT_MS = 10_000;
/**
 * Ping period towards the gateway, in ms: the gateway counts a worker it has not heard from for
 * 3 s as dead, and pings keep flowing while this side pauses reading under backpressure.
 */
const PING_INTERVAL_MS = 1000;
/** Silence from the gateway (no frame, ping or pong) after which it counts as gone, in ms. */
const SILENCE_TIMEOUT_MS = 15_000;

/** What a worker process shares between its leg-2 connections. */
export interface WorkerRuntime {
  /** `wrk_…`, sent in each `ack`. */
  readonly workerId: string;
  readonly engines: Engines;
  readonly metrics: TolkMetrics;
  /** Streams accepted (counted from the config until the connection ends). */
  readonly streams: Set<Leg2Connection>;
  /** Endpointing settings, in ms; the inbound message limit, in bytes; `TOLK_MAX_STREAMS`. */
  readonly settings: { endpointSilenceMs: number; maxUtteranceMs: number; maxFrameBytes: number; maxBufferedBytes: number; maxStreams: number };
  /** True once the worker shuts down: new streams are refused with 4429. */
  draining: boolean;
  /** The number of streams changed (the heartbeat announces it at once). */
  loadChanged(): void;
}

/**
 * A worker's end of one leg-2 connection (spec 002 Part 3): the first text frame is the merged
 * config; invalid → `error` 400 and close 4400; worker full or shutting down → `error` 429 and
 * close 4429 (the gateway tries another worker); then the pipeline starts, the worker sends its
 * `ack`, takes binary PCM and control frames, and sends the stream's events encoded as text frames
 * (Part 1 events and internal frames, leg2-events.ts) and synthesized PCM until either side closes.
 */
export class Leg2Connection {
  private state: 'awaiting-config' | 'starting' | 'streaming' | 'closed' = 'awaiting-config';
  private stream: WorkerStream | undefined;
  private referenceId: string | undefined;
  /** Pauses reading leg 2 while the recognizer is behind; TCP flow control then slows the gateway. */
  private readonly backpressure: WsBackpressure;
  private readonly configTimer: NodeJS.Timeout;
  private readonly pinger: NodeJS.Timeout;
  private lastHeardAtMs = Date.now();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly ws: WebSocket,
    private readonly log: FastifyBaseLogger,
  ) {
    this.backpressure = new WsBackpressure(ws, () => (this.state === 'streaming' ? this.stream?.backlogMs : undefined));
    ws.on('message', (data, isBinary) => void this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => void this.shutdown());
    ws.on('error', (err) => this.log.warn({ err }, 'leg 2 socket error'));
    const heard = (): void => void (this.lastHeardAtMs = Date.now());
    ws.on('pong', heard);
    ws.on('ping', heard);
    this.configTimer = setTimeout(() => this.refuse(400, `No config received within ${CONFIG_TIMEOUT_MS} ms`), CONFIG_TIMEOUT_MS);
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeardAtMs > SILENCE_TIMEOUT_MS) ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.ping();
    }, PING_INTERVAL_MS);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    this.lastHeardAtMs = Date.now();
    try {
      if (data.length > this.rt.settings.maxFrameBytes) return this.refuse(400, `Message of ${data.length} bytes exceeds the ${this.rt.settings.maxFrameBytes}-byte limit`);
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
        this.backpressure.check();
        return;
      }
      const control = parseControlMessage(data.toString('utf8'));
      if (control.type === 'drain') await this.stream.drain(control.timeoutMs, 1000, 'Stream finished');
      else if (control.type === 'dictionary') this.stream.updateDictionary(control.dictionary);
    } catch (err) {
      this.log.error({ err }, 'leg 2 message handling failed');
      this.refuse(500, 'Server failed to process the request');
    }
  }

  private async start(text: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.refuse(400, 'Malformed JSON in the leg-2 config');
    }
    const parsed = leg2ConfigSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.refuse(400, `Malformed leg-2 config: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const config = parsed.data;
    const ref = config.metadata.reference_id;
    if (typeof ref === 'string' || typeof ref === 'number') this.referenceId = String(ref);
    const problem = this.problem(config);
    if (problem) return this.refuse(400, problem);
    if (this.rt.draining) return this.refuse(429, 'This worker is shutting down');
    if (this.rt.streams.size >= this.rt.settings.maxStreams) return this.refuse(429, `This worker is at capacity (${this.rt.settings.maxStreams} streams)`);
    this.rt.streams.add(this);
    this.rt.loadChanged();
    const stream = new WorkerStream(this.rt.engines, config, {
      endpointSilenceMs: this.rt.settings.endpointSilenceMs, maxUtteranceMs: this.rt.settings.maxUtteranceMs,
      onUtteranceEnd: (e) => this.rt.metrics.observeUtterance(e.latency),
      onFailure: (err) => this.log.error({ err, requestId: config.request_id }, 'pipeline failed'),
    }, {
      event: (event) => {
        for (const frame of encodeWorkerEvent(event, this.referenceId)) this.send(frame);
      },
      audio: (pcm) => this.send(pcm),
      end: (code, reason) => {
        if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason);
        void this.shutdown();
      },
    });
    try {
      await stream.start();
    } catch (err) {
      this.log.error({ err }, 'pipeline start failed');
      return this.refuse(500, 'Server failed to start the speech pipeline');
    }
    if (this.state !== 'starting') {
      await stream.close();
      return;
    }
    this.stream = stream;
    this.state = 'streaming';
    this.ws.send(ackMessage(config.request_id, this.rt.workerId));
    this.rt.metrics.streamStarted('leg2');
    this.log.info({ requestId: config.request_id, source: config.source_lang, target: config.target_lang }, 'leg 2 stream started');
  }

  /** What this worker cannot run in the config (it checks languages again: it owns the engines). */
  private problem(c: Leg2Config): string | undefined {
    const audio = audioProblem(c.audio);
    if (audio) return audio;
    if (!isLanguageTag(c.source_lang) || !isLanguageTag(c.target_lang)) return `Invalid language tags "${c.source_lang}" → "${c.target_lang}"`;
    if (c.tts.voice.id !== 'male' && c.tts.voice.id !== 'female') return `Invalid voice "${c.tts.voice.id}": use "male" or "female"`;
    const providers = leg2ConfigProblem(this.rt.engines, c);
    if (providers) return providers;
    const check = checkLanguages(this.rt.engines, c.source_lang, c.target_lang, c.tts.voice.id as VoiceName);
    return check.ok ? undefined : check.description;
  }

  private send(frame: string | Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.rt.settings.maxBufferedBytes) {
      this.log.warn({ bufferedBytes: this.ws.bufferedAmount }, 'gateway not reading leg 2; disconnecting');
      this.ws.terminate();
      return;
    }
    this.ws.send(frame);
  }

  /** Sends an `error` event and closes with 4000 + status. */
  private refuse(status: number, description: string): void {
    if (this.state === 'closed') return;
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(errorEvent(status, description, this.referenceId));
      this.ws.close(4000 + status, closeReason(description));
    }
    void this.shutdown();
  }

  /**
   * The worker shuts down (SIGTERM): stops taking audio, finishes the utterance in flight for at
   * most `timeoutMs`, then closes leg 2 with 1001 — the gateway closes its client with 1001.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state === 'streaming' && this.stream) {
      this.backpressure.release();
      await this.stream.drain(timeoutMs, 1001, 'Worker shutting down');
    } else if (this.ws.readyState === this.ws.OPEN) {
      this.ws.close(1001, 'Worker shutting down');
    }
    await this.shutdown();
  }

  /** Ends the connection (idempotent) and releases its pipeline. */
  async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.configTimer);
    this.backpressure.release();
    clearInterval(this.pinger);
    if (this.rt.streams.delete(this)) this.rt.loadChanged();
    const s = this.stream;
    this.stream = undefined;
    await s?.close();
  }
}
