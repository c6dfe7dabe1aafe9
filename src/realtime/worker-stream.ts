import { S16leDecoder } from '../audio/pcm.js';
import { closeReason } from '../common/close-reason.js';
import type { DictionaryEntry, DictionarySource } from '../pipeline/glossary.js';
import { TranslationPipeline, type PipelineEvent, type PipelineOptions } from '../pipeline/translation-pipeline.js';
import { providerChoice, type Engines } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import type { VadName } from '../providers/vad/types.js';
import type { Leg2Config } from './leg2-protocol.js';
import type { UtteranceEndEvent } from './session-stream.js';
import type { WorkerEvent } from './worker-link.js';

/**
 * Where a {@link WorkerStream} sends what it produces, typed: the in-process link hands it to the
 * gateway's connection as it is; leg 2's socket encodes it (leg2-events.ts).
 */
export interface WorkerStreamOutput {
  /** A pipeline event other than audio. */
  event(event: WorkerEvent): void;
  /** Synthesized PCM, s16le mono at the config's rate. */
  audio(pcm: Buffer): void;
  /**
   * The stream ended: 1000 after a drain asked by the gateway, 1001 after a drain of the worker
   * itself, 4000 + status after an `error` event (delivered just before). Called once.
   */
  end(code: number, reason: string): void;
}

/** Settings of the process that runs the stream, not of the stream. */
export interface WorkerStreamSettings {
  /** Trailing silence that ends an utterance, in ms (`TOLK_ENDPOINT_SILENCE_MS`). */
  endpointSilenceMs: number;
  /** Utterance length after which a shorter pause ends it, in ms (`TOLK_MAX_UTTERANCE_MS`). */
  maxUtteranceMs: number;
  /** The VAD (`TOLK_VAD`, docs/vad.md); default `energy`. */
  vad?: VadName | undefined;
  /**
   * A live dictionary read before each utterance (role `all`: the organization's glossary through
   * the cache). Without it the config's `translator.dictionary`, replaced by `dictionary` frames.
   */
  dictionary?: DictionarySource | undefined;
  /** Every finished utterance, with its latency marks (the worker's `/metrics`). */
  onUtteranceEnd?: (event: UtteranceEndEvent) => void;
  /** A pipeline failure, for the server's log (never sent to the gateway). */
  onFailure?: (cause: unknown) => void;
  /**
   * Audio the recognizer may have queued, in ms, while the client is not ahead of real time, before
   * the stream is shed (`TOLK_MAX_BACKLOG_MS`, docs/deploy.md "Capacity"); none when undefined.
   */
  maxBacklogMs?: number | undefined;
  /** The stream was shed for falling behind (the budget's count). */
  onShed?: (() => void) | undefined;
  /** The pipeline started, endpointing with `vad` (the `/metrics` counter `tolk_vad_streams_total`, docs/operations.md). */
  onStarted?: ((vad: VadName) => void) | undefined;
}

/** How often a running stream's backlog is checked against `maxBacklogMs`, in ms. */
const BACKLOG_CHECK_MS = 250;
/**
 * How long the backlog must stay over `maxBacklogMs` without shrinking before the stream is shed, in
 * ms: audio kept while the stream opened arrives at once, and is decoded faster than real time.
 */
const SHED_AFTER_MS = 1000;

/**
 * Which leg-2 config a worker cannot run, as a description for a 400 `error` event, or undefined:
 * a `*.provider` that names no engine of this worker (see {@link providerChoice}). The gateway
 * checks the same before it opens leg 2; the worker checks again because it owns the engines.
 */
export function leg2ConfigProblem(engines: Engines, config: Leg2Config): string | undefined {
  const checks = [
    ['stt', engines.stt, config.stt.provider],
    ['translator', engines.mt, config.translator.provider],
    ['tts', engines.tts, config.tts.provider],
  ] as const;
  for (const [field, provider, requested] of checks) {
    const choice = providerChoice(provider, requested);
    if (!choice.ok) return `Unsupported ${field} provider "${requested}": this worker runs ${choice.runs}`;
  }
  return undefined;
}

/** The engines a leg-2 config selects first, per kind (spec 002 Part 3 `*.provider`), for the pipeline. */
export function preferredEngines(engines: Engines, config: Leg2Config): NonNullable<PipelineOptions['engines']> {
  const pick = (provider: { readonly name: string }, requested: string): readonly string[] | undefined => {
    const choice = providerChoice(provider, requested);
    return choice.ok ? choice.engines : undefined;
  };
  return { stt: pick(engines.stt, config.stt.provider), mt: pick(engines.mt, config.translator.provider), tts: pick(engines.tts, config.tts.provider) };
}

/**
 * One stream on a worker (spec 002 Part 3): runs the {@link TranslationPipeline} for a leg-2 config,
 * takes inbound PCM frames, and produces typed events ({@link WorkerEvent}) and synthesized PCM.
 * Shared by the worker's leg-2 endpoint and the in-process link of role `all`, so both behave the
 * same.
 */
export class WorkerStream {
  private pipeline: TranslationPipeline | undefined;
  private readonly decoder = new S16leDecoder();
  private dictionary: readonly DictionaryEntry[];
  private state: 'new' | 'running' | 'draining' | 'ended' = 'new';
  private firstAudioWallMs: number | undefined;
  private receivedAudioMs = 0;
  private backlogTimer: NodeJS.Timeout | undefined;
  /** Since when, and from what backlog (ms), the backlog has been over `maxBacklogMs`. */
  private over: { sinceMs: number; backlogMs: number } | undefined;

  constructor(
    private readonly engines: Engines,
    private readonly config: Leg2Config,
    private readonly settings: WorkerStreamSettings,
    private readonly out: WorkerStreamOutput,
  ) {
    this.dictionary = Object.entries(config.translator.dictionary).map(([source, target]) => ({ source, target }));
  }

  /**
   * Opens the recognizer and starts the pipeline.
   * @throws {Error} when the STT engine cannot start (the caller answers 500).
   */
  async start(): Promise<void> {
    const c = this.config;
    const pipeline = new TranslationPipeline(
      this.engines,
      {
        sourceLanguage: c.source_lang,
        targetLanguage: c.target_lang,
        voice: c.tts.voice.id as VoiceName,
        sampleRateHz: c.audio.sample_rate,
        vocabulary: c.stt.vocabulary,
        dictionary: this.settings.dictionary ?? (async () => this.dictionary),
        interim: c.stt.interim,
        final: c.stt.final,
        translate: c.stt.translate,
        endpointSilenceMs: this.settings.endpointSilenceMs,
        maxUtteranceMs: this.settings.maxUtteranceMs,
        vad: this.settings.vad,
        backgroundVoiceCancellation: c.features.background_voice_cancellation === true,
        simultaneous: c.features.simultaneous === true,
        mode: c.translator.mode === 'none' ? 'recognize' : 'translate',
        engines: preferredEngines(this.engines, c),
      },
      (event) => this.onPipelineEvent(event),
    );
    await pipeline.start();
    if (this.state !== 'new') {
      await pipeline.close(0);
      return;
    }
    this.pipeline = pipeline;
    this.state = 'running';
    // The pipeline's VAD when none is named is the energy VAD (src/providers/vad/speech-detector.ts).
    this.settings.onStarted?.(this.settings.vad ?? 'energy');
    if (this.settings.maxBacklogMs !== undefined) {
      this.backlogTimer = setInterval(() => this.checkBacklog(), BACKLOG_CHECK_MS);
      this.backlogTimer.unref();
    }
  }

  /**
   * Sheds the stream (an `error` 429, then close 4429) when the recognizer has had more than
   * `maxBacklogMs` of its audio queued for {@link SHED_AFTER_MS} without catching up, although the
   * client sends no faster than real time: the process cannot keep up, and a stream left to drift
   * would answer later and later. A client that sends faster than real time (a file) is slowed by
   * flow control instead.
   */
  private checkBacklog(): void {
    const max = this.settings.maxBacklogMs;
    if (max === undefined || this.state !== 'running' || this.firstAudioWallMs === undefined) return;
    const backlogMs = this.backlogMs;
    const now = Date.now();
    if (backlogMs < max || this.receivedAudioMs > now - this.firstAudioWallMs + max) {
      this.over = undefined; // caught up, or ahead of real time (flow control's case)
      return;
    }
    // Shrinking since the window began: catching up, the window starts again.
    if (!this.over || backlogMs < this.over.backlogMs) this.over = { sinceMs: now, backlogMs };
    if (now - this.over.sinceMs < SHED_AFTER_MS) return;
    this.settings.onShed?.();
    const description = `Max concurrent connections exceeded: the server is overloaded and fell ${(backlogMs / 1000).toFixed(1)} s behind this stream's audio, so the stream was ended; reconnect`;
    this.out.event({ type: 'error', status: 429, description, cause: undefined });
    this.finish(4429, closeReason(description));
  }

  /** True once started and until it ends or drains. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Audio received but not yet decoded, in ms (the transport pauses reading while it is high). */
  get backlogMs(): number {
    return this.pipeline?.backlogMs ?? 0;
  }

  /**
   * Feeds a binary frame of s16le mono PCM at the config's rate (any length; an odd byte waits for
   * the next frame).
   * @param arrivedAtMs - wall time the audio reached the gateway (default now).
   */
  pushAudio(frame: Buffer, arrivedAtMs?: number): void {
    if (this.state !== 'running') return;
    this.firstAudioWallMs ??= arrivedAtMs ?? Date.now();
    this.receivedAudioMs += (frame.length / 2 / this.config.audio.sample_rate) * 1000;
    this.pipeline?.push(this.decoder.decode(frame), arrivedAtMs);
    this.checkBacklog();
  }

  /** Replaces the dictionary from the next utterance (a `dictionary` frame). */
  updateDictionary(dictionary: Record<string, string>): void {
    this.dictionary = Object.entries(dictionary).map(([source, target]) => ({ source, target }));
  }

  /**
   * Stops taking audio, lets the utterance in flight finish (its events are still sent) for at
   * most `timeoutMs`, then ends with `code` (1000 when the gateway asked, 1001 when the worker
   * shuts down).
   */
  async drain(timeoutMs: number, code: 1000 | 1001, reason: string): Promise<void> {
    if (this.state === 'ended' || this.state === 'draining') return;
    const wasRunning = this.state === 'running';
    this.state = 'draining';
    if (wasRunning) await this.pipeline?.close(timeoutMs);
    this.finish(code, reason);
  }

  /** Ends at once (leg 2 closed): nothing more is sent; the pipeline is released. Idempotent. */
  async close(): Promise<void> {
    this.state = 'ended';
    clearInterval(this.backlogTimer);
    const p = this.pipeline;
    this.pipeline = undefined;
    await p?.close(0);
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearInterval(this.backlogTimer);
    const p = this.pipeline;
    this.pipeline = undefined;
    void p?.close(0);
    this.out.end(code, reason);
  }

  private onPipelineEvent(event: PipelineEvent): void {
    if (this.state === 'ended') return;
    switch (event.type) {
      case 'audio':
        this.out.audio(event.pcm);
        return;
      case 'utterance-end':
        this.settings.onUtteranceEnd?.(event);
        this.out.event(event);
        return;
      case 'error':
        this.settings.onFailure?.(event.cause);
        this.out.event(event);
        this.finish(4000 + event.status, closeReason(event.description));
        return;
      default:
        this.out.event(event);
    }
  }
}
