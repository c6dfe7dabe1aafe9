import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { checkLanguages } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import { conversationLeg2Config, LinkedPipeline, OnDemandPipeline, type ConversationPipelineRequest, type LinkedPipelineEvent } from '../realtime/linked-pipeline.js';
import { CONVERSATIONS_TENANT, type StreamSlot } from '../realtime/stream-slots.js';
import { WorkerRefusedError } from '../realtime/worker-link.js';

/** Why the gateway did not open a conversation stream: a 429 when the server is at capacity, else another status. */
export interface ConversationRefusal {
  status: number;
  /** For the log and the client (spec 003 errors are `{"error": description}`). */
  description: string;
}

/**
 * The stream service's part for spec-003 conversations, which carry no key (the conversation id is
 * the capability): their streams hold slots of the conversations tenant (docs/security.md), so all
 * conversations together never take more than their share of `TOLK_MAX_STREAMS`.
 * @returns the slot, or the refusal (429) to tell the client.
 */
export function acquireConversationSlot(ctx: AppContext): { ok: true; slot: StreamSlot } | ({ ok: false } & ConversationRefusal) {
  const slot = ctx.slots.acquire(CONVERSATIONS_TENANT);
  return slot.ok ? slot : { ok: false, status: 429, description: slot.description };
}

/**
 * Checks a conversation's languages and voice against the engines (spec 003 languages are those
 * the engines offer).
 * @returns the refusal (400) to tell the client, or undefined when the engines can serve them.
 */
export function conversationLanguageProblem(ctx: AppContext, sourceLanguage: string, targetLanguage: string, voice: VoiceName): ConversationRefusal | undefined {
  const check = checkLanguages(ctx.engines, sourceLanguage, targetLanguage, voice);
  return check.ok ? undefined : { status: 400, description: check.description };
}

/**
 * Opens a conversation connection's pipeline on a worker (spec 003 through spec 002 leg 2,
 * docs/architecture.md "Processes"): the leg-2 config of `request`, then a worker's acknowledgement. The caller holds the slot.
 * @returns the pipeline, or the refusal: 429 when every worker is full, 500 when the recognizer
 *   could not start (logged).
 */
export async function openConversationPipeline(
  ctx: AppContext, request: ConversationPipelineRequest, onEvent: (event: LinkedPipelineEvent) => void, log: FastifyBaseLogger,
): Promise<{ ok: true; pipeline: LinkedPipeline } | ({ ok: false } & ConversationRefusal)> {
  try {
    return { ok: true, pipeline: await LinkedPipeline.open(ctx.workers, conversationLeg2Config(ctx.engines, request), onEvent, log) };
  } catch (err) {
    if (err instanceof WorkerRefusedError) return { ok: false, status: err.status, description: err.description };
    log.error({ err }, 'conversation pipeline start failed');
    return { ok: false, status: 500, description: 'The speech recognizer could not start' };
  }
}

/** Where a {@link ConversationStream} reports. */
export interface ConversationStreamHandlers {
  /** The pipeline's events (transcripts, translations, audio, utterance ends, errors, a lost worker). */
  onEvent(event: LinkedPipelineEvent): void;
  /** A recognizer could not be opened: 429 at capacity (the slot's or every worker's), 500 otherwise. */
  onRefused(refusal: ConversationRefusal): void;
  /** A recognizer was opened (after a refusal or a release, the next audio opens one again). */
  onOpened?(): void;
}

/**
 * A spec-003 connection's stream through the gateway (docs/architecture.md "Processes"), the conversations' counterpart of
 * the stream service: it holds a slot of the conversations tenant while a recognizer is open (or,
 * with `holdSlot`, from the first open until the end) and opens the pipeline on a worker on demand —
 * at {@link prepare} or at the first audio, and again after its worker was lost — so the adapter
 * only maps its wire format.
 */
export class ConversationStream {
  private pipeline: OnDemandPipeline;
  private slot: StreamSlot | undefined;
  private request: ConversationPipelineRequest;

  /**
   * @param options.holdSlot - keep the slot across {@link release} and {@link switchTo} (a
   *   single-device connection holds one from its first config to its end); otherwise the slot
   *   goes back with the recognizer (a room participant who only listens holds none).
   */
  constructor(
    private readonly ctx: AppContext,
    request: ConversationPipelineRequest,
    private readonly handlers: ConversationStreamHandlers,
    private readonly log: FastifyBaseLogger,
    private readonly options: { holdSlot: boolean } = { holdSlot: false },
  ) {
    this.request = request;
    this.pipeline = new OnDemandPipeline(() => this.open());
  }

  /** Opens the recognizer now, so the first audio does not wait for a worker; resolves when done. */
  prepare(): Promise<void> {
    return this.pipeline.prepare();
  }

  /** Forwards s16le mono PCM at the request's rate, opening the recognizer first when needed. */
  push(frame: Buffer, arrivedAtMs: number): Promise<void> {
    return this.pipeline.push(frame, arrivedAtMs);
  }

  /**
   * New languages from the next audio: utterances already recognized finish in the old ones
   * (their pipeline closes after at most `drainTimeoutMs`, in the background); the slot stays.
   */
  async switchTo(request: ConversationPipelineRequest, drainTimeoutMs: number): Promise<void> {
    const previous = this.pipeline;
    this.request = request;
    this.pipeline = new OnDemandPipeline(() => this.open());
    void previous.close(drainTimeoutMs);
    await this.pipeline.prepare();
  }

  /** Gives the recognizer back (and the slot, unless held); the next audio opens one again. */
  async release(drainTimeoutMs: number): Promise<void> {
    await this.pipeline.release(drainTimeoutMs);
    if (!this.options.holdSlot) this.releaseSlot();
  }

  /** Ends the stream: the recognizer may finish its utterance for `drainTimeoutMs`; the slot goes back. Idempotent. */
  async close(drainTimeoutMs: number): Promise<void> {
    await this.pipeline.close(drainTimeoutMs);
    this.releaseSlot();
  }

  private releaseSlot(): void {
    this.slot?.release();
    this.slot = undefined;
  }

  private async open(): Promise<LinkedPipeline | undefined> {
    if (!this.slot) {
      const slot = acquireConversationSlot(this.ctx);
      if (!slot.ok) {
        this.handlers.onRefused(slot);
        return undefined;
      }
      this.slot = slot.slot;
    }
    const opened = await openConversationPipeline(this.ctx, this.request, (event) => this.handlers.onEvent(event), this.log);
    if (opened.ok) {
      this.handlers.onOpened?.();
      return opened.pipeline;
    }
    if (!this.options.holdSlot) this.releaseSlot();
    this.handlers.onRefused(opened);
    return undefined;
  }
}
