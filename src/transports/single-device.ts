import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { conversationLanguageProblem, ConversationStream, type ConversationRefusal } from '../gateway/conversation-streams.js';
import type { ConversationPipelineRequest, LinkedPipelineEvent } from '../realtime/linked-pipeline.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { parseSingleDeviceConfig } from './single-device-config.js';
import { primaryLanguage } from '../common/language-tags.js';
import { isTextOnlyPair } from '../gateway/conversation-languages.js';
import { parseJsonMessage, WsChannel } from './ws-channel.js';

/** How long the previous languages' utterance in flight may take to finish after a new config, in ms. */
const SWITCH_DRAIN_MS = 5000;

/** Largest inbound message, in bytes (1 s of 48 kHz audio is 96 kB). */
const MAX_MESSAGE_BYTES = 256 * 1024;

/** Config messages a connection may send: a burst of this many, then one a second (docs/security.md). */
const CONFIG_BURST = 3;
const CONFIG_REFILL_MS = 1000;

/**
 * One `/api/v1/ws/single` connection (spec 003 Flow 1): a `config` message, then binary PCM s16le;
 * out come `{is_final:false, original, translation:""}` while the person speaks, one
 * `{is_final:true, original, translation, utterance_id, latency_ms}` per utterance (latency: end of
 * speech → translation, measured by the pipeline) and, when the config asks for it (`"speech": true`),
 * the translated speech as binary PCM s16le mono at the config's rate. A new `config` switches languages without reconnecting: utterances already
 * recognized finish in the old languages, audio after it goes to the new ones. The pipeline runs on
 * a worker through leg 2 (docs/architecture.md "Processes"), in this process for role `all`.
 */
export class SingleDeviceConnection {
  /**
   * The stream through the gateway from the first valid config: its slot (every transport counts
   * against `TOLK_MAX_STREAMS`) and the latest config's pipeline on a worker, opened again after its
   * worker was lost.
   */
  private stream: ConversationStream | undefined;
  /** The latest config being applied; audio waits for it. */
  private starting: Promise<void> | undefined;
  private closed = false;
  /** Whether the latest config asked for the translated speech (`"speech": true`). */
  private speech = false;
  /** The primary languages when the latest config is text only (a target without a voice, `"speech": false`). */
  private textPair: { source: string; target: string } | undefined;
  /** Config messages left in the burst, and when the last one was counted. */
  private configTokens = CONFIG_BURST;
  private configTokensAtMs = Date.now();
  /** No config within the config timeout, then no audio within the idle-audio timeout, ends the connection. */
  private readonly idleTimer = new IdleTimer(() => {
    const limits = this.ctx.config.streamLimits;
    this.end(4408, this.stream ? `No audio received for ${limits.idleAudioTimeoutMs / 1000} s.` : `No config message within ${limits.configTimeoutMs / 1000} s of connecting.`);
  });

  /** The socket: frame limit, guarded send, byte-safe close. */
  private readonly channel: WsChannel;

  constructor(
    private readonly ctx: AppContext,
    ws: WebSocket,
    private readonly log: FastifyBaseLogger,
  ) {
    this.channel = new WsChannel(ws, {
      maxFrameBytes: MAX_MESSAGE_BYTES, maxBufferedBytes: ctx.config.maxBufferedBytes, label: 'single-device', log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: () => this.sendError(`Message too large (over ${MAX_MESSAGE_BYTES} bytes).`),
      onFailure: () => this.sendError('The server failed to process the message.'),
      onClose: () => void this.shutdown(),
    });
    this.idleTimer.arm(ctx.config.streamLimits.configTimeoutMs);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    if (!isBinary) {
      const configured = this.configure(data.toString('utf8'));
      this.starting = configured;
      return configured;
    }
    if (!this.starting) return this.sendError('Send a config message before the audio.');
    this.idleTimer.touch();
    const arrivedAtMs = Date.now();
    await this.starting;
    await this.stream?.push(data, arrivedAtMs);
  }

  private async configure(text: string): Promise<void> {
    if (!this.takeConfigToken()) return this.sendError('Too many config messages: send at most one a second.');
    const message = parseJsonMessage(text, 'config message');
    if (!message.ok) return this.sendError(`${message.description}.`);
    const parsed = parseSingleDeviceConfig(message.json);
    if (!parsed.ok) return this.sendError(parsed.error);
    const c = parsed.config;
    // A target without a voice is served as text when the client asks for no speech.
    const textOnly = !c.speech && isTextOnlyPair(this.ctx.engines, c.sourceLanguage, c.targetLanguage);
    const problem = textOnly ? undefined : conversationLanguageProblem(this.ctx, c.sourceLanguage, c.targetLanguage, c.voice);
    if (problem) return this.sendError(problem.description);

    this.speech = c.speech;
    this.textPair = textOnly ? { source: primaryLanguage(c.sourceLanguage), target: primaryLanguage(c.targetLanguage) } : undefined;
    // Text only: the worker recognizes (as for a room speaker) and this connection translates each final.
    const request: ConversationPipelineRequest = textOnly
      ? { sourceLanguage: c.sourceLanguage, targetLanguage: c.sourceLanguage, voice: c.voice, sampleRateHz: c.sampleRateHz, translatorMode: 'none' }
      : { sourceLanguage: c.sourceLanguage, targetLanguage: c.targetLanguage, voice: c.voice, sampleRateHz: c.sampleRateHz, translatorMode: 'synchronous', simultaneous: c.simultaneous };
    if (this.stream) return this.stream.switchTo(request, SWITCH_DRAIN_MS);
    const stream = new ConversationStream(this.ctx, request, {
      onEvent: (event) => this.onPipelineEvent(event),
      onRefused: (refusal) => this.onRefused(refusal),
    }, this.log, { holdSlot: true });
    this.stream = stream;
    this.idleTimer.arm(this.ctx.config.streamLimits.idleAudioTimeoutMs);
    // Opened now, so the first audio does not wait for a worker's acknowledgement.
    await stream.prepare();
  }

  private onRefused(refusal: ConversationRefusal): void {
    this.sendError(refusal.status === 429 ? `The server is at capacity; try again shortly. (${refusal.description})` : 'The speech recognizer could not start; try again.');
  }

  private onPipelineEvent(event: LinkedPipelineEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'transcript':
        // A final goes out with its translation (which carries the final's text).
        if (!event.final) this.sendJson({ is_final: false, original: event.text, translation: '' });
        return;
      case 'translation':
        // Simultaneous mode: what was spoken so far, as an interim with its translation.
        if (!event.final) return this.sendJson({ is_final: false, original: event.transcript, translation: event.text });
        // The final goes out with its translation, before speech synthesis starts.
        this.sendJson({
          is_final: true, original: event.transcript, translation: event.text,
          utterance_id: event.utteranceId, latency_ms: event.latencyMs,
        });
        return;
      case 'audio':
        if (this.speech) this.channel.send(event.pcm);
        return;
      case 'utterance-end':
        if (this.textPair) void this.sendTextFinal(event, this.textPair);
        this.ctx.metrics.observeUtterance(event.latency);
        this.ctx.onUtterance?.(event);
        return;
      case 'error':
        this.log.error({ status: event.status, description: event.description }, 'single-device pipeline failed');
        this.sendError(event.description);
        return;
      case 'lost':
        this.log.warn({ code: event.code, reason: event.reason }, 'single-device pipeline lost: its worker stopped');
        this.sendError('The translation worker stopped; what you say next is translated on another worker.');
        return;
    }
  }

  /**
   * The final of a text-only utterance: its transcript translated here for `pair` (primary
   * languages; the worker only recognized it); latency is end of speech → translation, in ms.
   */
  private async sendTextFinal(event: Extract<LinkedPipelineEvent, { type: 'utterance-end' }>, pair: { source: string; target: string }): Promise<void> {
    if (!event.transcript) return;
    const speechEndWallMs = Date.now() - event.latency.finalTranscriptMs;
    try {
      const source = event.transcript;
      const translation = pair.source === pair.target ? source : (await this.ctx.engines.mt.translate([source], pair)).join('');
      if (this.closed) return;
      this.sendJson({ is_final: true, original: source, translation, utterance_id: event.utteranceId, latency_ms: Date.now() - speechEndWallMs });
    } catch (err) {
      this.log.error({ err }, 'single-device text translation failed');
      this.sendError('The translation failed; what you say next is translated again.');
    }
  }

  /** Token bucket of config messages: {@link CONFIG_BURST}, refilled one per {@link CONFIG_REFILL_MS}. */
  private takeConfigToken(): boolean {
    const now = Date.now();
    const refill = Math.floor((now - this.configTokensAtMs) / CONFIG_REFILL_MS);
    if (refill > 0) {
      this.configTokens = Math.min(CONFIG_BURST, this.configTokens + refill);
      this.configTokensAtMs += refill * CONFIG_REFILL_MS;
    }
    if (this.configTokens === 0) return false;
    this.configTokens--;
    return true;
  }

  /** Sends `{"error": message}`, closes with `code` and ends the pipeline. */
  private end(code: number, message: string): void {
    this.sendError(message);
    this.channel.close(code, 'Timeout');
    void this.shutdown();
  }

  private sendJson(message: object): void {
    this.channel.sendJson(message);
  }

  private sendError(message: string): void {
    this.sendJson({ error: message });
  }

  /** Ends the connection's pipeline (idempotent). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channel.stop();
    this.idleTimer.stop();
    await this.stream?.close(0);
  }
}
