import type { FastifyBaseLogger } from 'fastify';
import type { Engines } from '../providers/registry.js';
import { buildLeg2Config, newRequestId } from './leg2-config.js';
import type { Leg2Config } from './leg2-protocol.js';
import type { WorkerEvent, WorkerLink, WorkerLinks } from './worker-link.js';

/**
 * What a {@link LinkedPipeline} reports, in the order the worker emitted it: the worker's typed
 * events (a translation carries its latency, end of speech → translation, and its final's text;
 * after an `error` the link ends), synthesized speech (s16le mono at the config's
 * `audio.sample_rate`), and `lost`: leg 2 ended without being asked to (the worker died, or shut
 * down with 1001) — a new {@link LinkedPipeline} may be opened for the audio that follows.
 */
export type LinkedPipelineEvent = WorkerEvent | { type: 'audio'; pcm: Buffer } | { type: 'lost'; code: number; reason: string };

/** What a conversation connection (spec 003) asks of a worker. */
export interface ConversationPipelineRequest {
  conversationId?: string | undefined;
  /** BCP-47 tags; the same for a room speaker (recognition only). */
  sourceLanguage: string;
  targetLanguage: string;
  voice: string;
  /** Rate of the PCM both ways, in Hz. */
  sampleRateHz: number;
  /** `synchronous`: translate and speak; `none`: recognize only. */
  translatorMode: 'synchronous' | 'none';
  /** Simultaneous mode (docs/stream-protocol.md "Simultaneous mode"), with `synchronous`; default off. */
  simultaneous?: boolean | undefined;
}

/**
 * The leg-2 config (spec 002 Part 3) of a conversation connection: interim and final transcripts,
 * translations when `translatorMode` is `synchronous`, the engines the gateway sees, tier 1 (a
 * conversation is a capability, not an organization's stream), `metadata.conversation_id`.
 */
export function conversationLeg2Config(engines: Engines, r: ConversationPipelineRequest): Leg2Config {
  return buildLeg2Config({
    requestId: newRequestId(),
    client: {
      audio: { format: 'pcm_s16le', sample_rate: r.sampleRateHz, channels: 1 }, voice: r.voice,
      transcript: { interim: true, final: true, translate: r.translatorMode === 'synchronous' },
      ...(r.simultaneous && r.translatorMode === 'synchronous' ? { features: { simultaneous: true } } : {}),
    },
    sourceLanguage: r.sourceLanguage, targetLanguage: r.targetLanguage, vocabulary: [], dictionary: [],
    providers: { stt: engines.stt.name, translator: engines.mt.name, tts: engines.tts.name },
    conversationId: r.conversationId, translatorMode: r.translatorMode,
  });
}

/**
 * A conversation connection's pipeline on a worker (spec 003 through spec 002 leg 2, docs/architecture.md "Processes":
 * workers own pipelines, the gateway keeps the rooms): the leg-2 config goes out through
 * {@link WorkerLinks} (in this process for role `all`, a remote worker for role `gateway`), audio
 * follows, and the worker's typed events come back. Whoever built the config chooses
 * what the worker does: `translator.mode` `synchronous` (translate and speak, `/ws/single`) or
 * `none` (recognize only, a room speaker whose finals the room translates once per language).
 */
export class LinkedPipeline {
  private ended = false;

  private constructor(private link: WorkerLink | undefined) {}

  /**
   * Opens leg 2 for `config` and waits for the worker's acknowledgement.
   * @throws {WorkerRefusedError} when no worker takes it (429 all full, 500 none reachable, the
   *   worker's status when it rejects the config).
   */
  static async open(workers: WorkerLinks, config: Leg2Config, onEvent: (event: LinkedPipelineEvent) => void, log: FastifyBaseLogger): Promise<LinkedPipeline> {
    const pipeline = new LinkedPipeline(undefined);
    pipeline.link = await workers.open(config, {
      log,
      handlers: {
        onEvent,
        onAudio: (pcm) => {
          if (!pipeline.ended) onEvent({ type: 'audio', pcm });
        },
        onClose: (code, reason) => {
          const asked = pipeline.ended;
          pipeline.ended = true;
          pipeline.link = undefined;
          // 1000 answers our drain; 4000 + status follows an error event already reported.
          if (!asked && code !== 1000 && !(code >= 4000 && code < 5000)) onEvent({ type: 'lost', code, reason });
        },
      },
    });
    return pipeline;
  }

  /** True until leg 2 ends. */
  get open(): boolean {
    return !this.ended && this.link !== undefined;
  }

  /**
   * Forwards s16le mono PCM at the config's rate.
   * @param arrivedAtMs - wall time it reached the gateway.
   */
  push(frame: Buffer, arrivedAtMs?: number): void {
    if (this.open) this.link?.sendAudio(frame, arrivedAtMs);
  }

  /**
   * Ends the stream: lets the utterance in flight finish for at most `drainTimeoutMs` (its events
   * are still reported), or drops it at once with 0. Idempotent.
   */
  async close(drainTimeoutMs = 0): Promise<void> {
    const link = this.link;
    if (!link || this.ended) return;
    if (drainTimeoutMs > 0) {
      await link.drain(drainTimeoutMs);
    } else {
      this.ended = true;
      link.close();
    }
    this.ended = true;
    this.link = undefined;
  }
}

/** After a start that failed or was refused, how long a connection's audio is dropped before it tries again, in ms. */
export const REOPEN_BACKOFF_MS = 5000;

/**
 * A conversation connection's {@link LinkedPipeline}, opened on demand: at the first audio (or
 * {@link OnDemandPipeline.prepare}), and again at the first audio after its worker was lost.
 * Only one open is in flight at a time: audio that arrives meanwhile waits for it, in order. After
 * a failed or refused open (the opener reported it to the client and returned undefined), audio is
 * dropped for {@link REOPEN_BACKOFF_MS}, then the next audio tries again.
 */
export class OnDemandPipeline {
  private current: LinkedPipeline | undefined;
  private opening: Promise<void> | undefined;
  private failedAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  /** @param open - opens the pipeline, or reports why it cannot to the client and returns undefined. Must not reject. */
  constructor(private readonly open: () => Promise<LinkedPipeline | undefined>) {}

  /** Starts opening now, unless a pipeline is open or opening; resolves when that is done. */
  prepare(): Promise<void> {
    if (this.closed || this.current?.open) return Promise.resolve();
    if (this.opening) return this.opening;
    if (Date.now() - this.failedAtMs < REOPEN_BACKOFF_MS) return Promise.resolve();
    this.opening = this.open().then(async (pipeline) => {
      this.opening = undefined;
      if (!pipeline) {
        this.failedAtMs = Date.now();
        return;
      }
      if (this.closed) return pipeline.close(0);
      this.current = pipeline;
    });
    return this.opening;
  }

  /**
   * Forwards s16le mono PCM, opening the pipeline first when needed (see the class).
   * @param arrivedAtMs - wall time it reached the gateway.
   */
  async push(frame: Buffer, arrivedAtMs: number): Promise<void> {
    if (!this.current?.open) await this.prepare();
    this.current?.push(frame, arrivedAtMs);
  }

  /**
   * Closes the open pipeline (its recognizer goes back to the worker) but not this: the next audio
   * opens a new one. The utterance in flight may finish for `drainTimeoutMs`.
   */
  async release(drainTimeoutMs = 0): Promise<void> {
    await this.opening;
    const p = this.current;
    this.current = undefined;
    await p?.close(drainTimeoutMs);
  }

  /** Ends it: the utterance in flight may finish for `drainTimeoutMs` (0: at once). Idempotent. */
  async close(drainTimeoutMs = 0): Promise<void> {
    this.closed = true;
    await this.opening;
    const p = this.current;
    this.current = undefined;
    await p?.close(drainTimeoutMs);
  }
}
