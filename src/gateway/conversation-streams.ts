import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { checkLanguages } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import { conversationLeg2Config, LinkedPipeline, type ConversationPipelineRequest, type LinkedPipelineEvent } from '../realtime/linked-pipeline.js';
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
 * Opens a conversation connection's pipeline on a worker (spec 003 through spec 002 leg 2, DESIGN
 * §2): the leg-2 config of `request`, then a worker's acknowledgement. The caller holds the slot.
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
