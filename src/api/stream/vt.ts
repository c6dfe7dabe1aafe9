import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { S16leDecoder } from '../../audio/pcm.js';
import { authenticateApiKey } from '../../domain/api-keys.js';
import { resolveSessionKey, type SessionKeyGrant } from '../../domain/session-keys.js';
import type { LiveConnection } from '../../realtime/connection-registry.js';
import type { AttachedStream } from '../../realtime/session-stream.js';
import { TranslationPipeline, type PipelineEvent } from '../../pipeline/translation-pipeline.js';
import { checkLanguages, isLanguageTag } from '../../providers/registry.js';
import type { AppContext } from '../../context.js';
import { audioProblem, errorEvent, renderEvent, streamConfigSchema, type StreamConfig } from './protocol.js';

/** Backlog of undecoded audio at which reading from the client pauses, in ms. */
const PAUSE_BACKLOG_MS = 2000;
/** Audio accepted between the config and the start of the pipeline, in bytes (30 s at 48 kHz). */
const MAX_EARLY_AUDIO_BYTES = 48_000 * 2 * 30;

/**
 * Extracts the key from `authorization=api-key <KEY>` (also `Bearer <KEY>` or a bare key).
 * Returns undefined when the parameter is absent.
 */
export function keyFromAuthorization(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:api-key|bearer)\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : value.trim();
}

/**
 * Resolves a session key (from the token endpoint, or a platform session's `streamToken` with its
 * session binding) or an API key to its grant.
 */
export async function resolveStreamKey(ctx: AppContext, key: string): Promise<SessionKeyGrant | undefined> {
  return (await resolveSessionKey(ctx.state, key)) ?? (await authenticateApiKey(ctx.db, key));
}

/**
 * One `/vt` connection (spec 002 Part 1): the config message, then binary PCM in and events plus
 * synthesized PCM out. Every failure is an `error` event followed by a close with 4000 + status.
 * What the stream belongs to (organization glossary, platform session) is the session runtime's
 * business: the connection attaches to it and reports what it sends (docs/sessions.md).
 */
export class VtConnection implements LiveConnection {
  private state: 'awaiting-config' | 'starting' | 'streaming' | 'draining' | 'closed' = 'awaiting-config';
  private referenceId: string | undefined;
  private pipeline: TranslationPipeline | undefined;
  private attached: AttachedStream | undefined;
  private sampleRateHz = 16000;
  private readonly decoder = new S16leDecoder();
  private resumeTimer: NodeJS.Timeout | undefined;
  private counted = false;
  private readonly earlyAudio: Array<{ data: Buffer; arrivedAtMs: number }> = [];
  private earlyAudioBytes = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly ws: WebSocket,
    private readonly queryKey: string | undefined,
    private readonly log: FastifyBaseLogger,
  ) {
    ws.on('message', (data, isBinary) => void this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => void this.shutdown());
    ws.on('error', (err) => this.log.warn({ err }, 'vt socket error'));
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    try {
      if (data.length > this.ctx.config.maxFrameBytes) {
        return this.fail(400, `Message of ${data.length} bytes exceeds the ${this.ctx.config.maxFrameBytes}-byte limit`);
      }
      if (this.state === 'awaiting-config') {
        if (isBinary) return this.fail(400, 'Binary audio received before the config message; send the config JSON first');
        this.state = 'starting';
        await this.configure(data.toString('utf8'));
        return;
      }
      if (this.state === 'starting') {
        if (!isBinary) return this.sendError(400, 'The config message was already received');
        // Audio sent right after the config waits (bounded) until the pipeline is up.
        this.earlyAudioBytes += data.length;
        if (this.earlyAudioBytes > MAX_EARLY_AUDIO_BYTES) return this.fail(429, 'Too much audio sent before the stream started');
        this.earlyAudio.push({ data: Buffer.from(data), arrivedAtMs: Date.now() });
        return;
      }
      if (this.state !== 'streaming') return;
      if (!isBinary) return this.sendError(400, 'Unexpected text message: after the config only binary audio is accepted');
      const samples = this.decoder.decode(data);
      this.pipeline?.push(samples);
      this.attached?.audioReceived((samples.length * 1000) / this.sampleRateHz);
      this.applyBackpressure();
    } catch (err) {
      this.log.error({ err }, 'vt message handling failed');
      this.fail(500, 'Server failed to process the request');
    }
  }

  private async configure(text: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.fail(400, 'Malformed JSON in the config message');
    }
    const ref = (json as { config?: { metadata?: { reference_id?: unknown } } } | null)?.config?.metadata?.reference_id;
    if (typeof ref === 'string' || typeof ref === 'number') this.referenceId = String(ref);
    const parsed = streamConfigSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') ?? 'config';
      return this.fail(400, `Malformed config message: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    const config = parsed.data.config;

    const key = this.queryKey ?? config.api_key;
    if (!key) return this.fail(401, 'Missing API key: pass authorization=api-key <SESSION_KEY> in the URL or api_key in the config');
    const principal = await resolveStreamKey(this.ctx, key);
    if (!principal) return this.fail(401, 'Invalid or expired API key');

    const problem = this.validate(config);
    if (problem) return this.fail(400, problem);
    if (this.ctx.activeStreams.size >= this.ctx.config.maxStreams) {
      return this.fail(429, `Max concurrent connections exceeded (${this.ctx.config.maxStreams})`);
    }
    if (this.state !== 'starting') return; // the client left while the key was checked
    this.ctx.activeStreams.add(this);
    this.counted = true;
    const result = await this.ctx.sessions.attach({
      grant: principal, sourceLanguage: config.source_language, targetLanguage: config.target_language,
      vocabulary: config.vocabulary, dictionary: config.translation_dictionary,
      sendsFinals: config.transcript.final, sendsTranslations: config.transcript.translate,
      connection: this, log: this.log,
    });
    if (!result.ok) return this.fail(result.status, result.description);
    const attached = result.stream;
    if (this.state !== 'starting') {
      await attached.close();
      return;
    }
    this.attached = attached;
    this.sampleRateHz = config.audio.sample_rate;
    const pipeline = new TranslationPipeline(
      this.ctx.engines,
      {
        sourceLanguage: attached.sourceLanguage,
        targetLanguage: attached.targetLanguage,
        voice: config.voice as 'male' | 'female',
        sampleRateHz: config.audio.sample_rate,
        vocabulary: attached.vocabulary,
        dictionary: attached.dictionary,
        interim: config.transcript.interim,
        final: config.transcript.final,
        translate: config.transcript.translate,
        endpointSilenceMs: this.ctx.config.endpointSilenceMs,
        maxUtteranceMs: this.ctx.config.maxUtteranceMs,
      },
      (event) => this.onPipelineEvent(event),
    );
    try {
      await pipeline.start();
    } catch (err) {
      this.log.error({ err }, 'pipeline start failed');
      return this.fail(500, 'Server failed to start the speech pipeline');
    }
    if (this.state !== 'starting') {
      await pipeline.close(0);
      return;
    }
    this.pipeline = pipeline;
    this.state = 'streaming';
    for (const chunk of this.earlyAudio.splice(0)) {
      const samples = this.decoder.decode(chunk.data);
      pipeline.push(samples, chunk.arrivedAtMs);
      attached.audioReceived((samples.length * 1000) / this.sampleRateHz);
    }
    this.ctx.metrics.streamStarted('vt');
    this.log.info({ source: attached.sourceLanguage, target: attached.targetLanguage, organizationId: principal.organizationId }, 'vt stream started');
  }

  private validate(config: StreamConfig): string | undefined {
    const audio = audioProblem(config.audio);
    if (audio) return audio;
    if (!isLanguageTag(config.source_language)) return `Invalid source_language "${config.source_language}": use a BCP 47 tag such as en-US`;
    if (!isLanguageTag(config.target_language)) return `Incorrect target_language "${config.target_language}": use a BCP 47 tag such as es-ES`;
    if (config.voice !== 'male' && config.voice !== 'female') return `Invalid voice "${config.voice}": use "male" or "female"`;
    const check = checkLanguages(this.ctx.engines, config.source_language, config.target_language, config.voice);
    return check.ok ? undefined : check.description;
  }

  private onPipelineEvent(event: PipelineEvent): void {
    // Latency marks of an utterance still reach the session while the connection closes.
    if (event.type === 'utterance-end') this.attached?.utteranceEnded(event);
    if (this.state === 'closed') return;
    if (event.type === 'error') {
      this.log.error({ err: event.cause }, 'pipeline failed');
      return this.fail(event.status, event.description);
    }
    if (event.type === 'utterance-end') {
      this.ctx.metrics.observeUtterance(event.latency);
      this.ctx.onUtterance?.(event);
      return;
    }
    if (event.type === 'audio') {
      this.send(event.pcm);
      return;
    }
    const text = renderEvent(event, this.referenceId);
    if (!text || !this.send(text)) return;
    // Recorded the moment it is sent: nothing a client saw is lost if the process dies.
    if (event.type === 'transcript' && event.final) this.attached?.finalSent(event);
    else if (event.type === 'translation') this.attached?.translationSent(event);
  }

  /** Sends a frame; false when it could not be sent (connection closing, or a client not reading). */
  private send(data: string | Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.ctx.config.maxBufferedBytes) {
      // The client stopped reading: do not let its backlog grow without bound.
      this.log.warn({ bufferedBytes: this.ws.bufferedAmount }, 'vt client not reading; disconnecting');
      this.ws.terminate();
      void this.shutdown();
      return false;
    }
    this.ws.send(data);
    return true;
  }

  /** Pauses reading while the recognizer is behind; TCP flow control then slows the client. */
  private applyBackpressure(): void {
    if (!this.pipeline || this.resumeTimer || this.pipeline.backlogMs < PAUSE_BACKLOG_MS) return;
    this.ws.pause();
    this.resumeTimer = setInterval(() => {
      if (this.state !== 'streaming' || (this.pipeline?.backlogMs ?? 0) < PAUSE_BACKLOG_MS / 2) {
        clearInterval(this.resumeTimer);
        this.resumeTimer = undefined;
        this.ws.resume();
      }
    }, 20);
  }

  private sendError(status: number, description: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(errorEvent(status, description, this.referenceId));
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
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(4000 + status, description.slice(0, 120));
    void this.shutdown();
  }

  /**
   * Graceful end for a server shutting down (DESIGN §2, SIGTERM): stops taking audio, lets the
   * utterance in flight finish — its final, translation and speech are sent and persisted — for at
   * most `timeoutMs`, then closes with 1001 (going away).
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state !== 'streaming') {
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(1001, 'Server shutting down');
      return this.shutdown();
    }
    this.state = 'draining';
    clearInterval(this.resumeTimer);
    await this.pipeline?.close(timeoutMs);
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1001, 'Server shutting down');
    await this.shutdown();
  }

  /** Ends the stream (idempotent) and releases its pipeline. */
  async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.resumeTimer);
    if (this.counted) this.ctx.activeStreams.delete(this);
    const p = this.pipeline;
    this.pipeline = undefined;
    await p?.close(2000);
    await this.attached?.close();
  }
}
