import { timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CallLeg, CallSession } from '../../domain/calls/model.js';
import { advanceCallSession, getCallSessionById, sessionDurationS, setProviderStatus, type StoredCallSession } from '../../domain/calls/sessions.js';
import type { CallControl, MediaFormat, MediaLeg, MediaLegSink, ProviderStatusUpdate } from '../../domain/calls/telephony.js';
import { listTranscriptSegments, wordCount } from '../../domain/calls/transcript.js';
import { findWebhookEndpoint, isoSeconds, recordWebhookEvent, sessionWebhookEventTypes, type CallWebhookEventType } from '../../domain/calls/webhooks.js';
import { AppError } from '../../errors.js';
import { WebhookDelivery } from './webhook-delivery.js';
import { purgeExpiredIdempotencyKeys } from '../../domain/calls/idempotency.js';
import { CallRooms } from './call-rooms.js';
import { callAudioFormatProblem } from './call-audio.js';
import { callFormatOf, MediaParticipant } from './media-participant.js';
import { interruptedSessionIds } from './interrupted-calls.js';
import { recordingsDir } from './recordings.js';
import { readEnginesConfig } from '../../providers/engine-config.js';
import { createChatModel, LLM_SHORTHAND_ID, type ShorthandUse } from '../../providers/llm/chat-engines.js';
import type { ChatModel } from '../../providers/llm/types.js';

/** `end_reason` of a call ended because the server restarted and no participant reconnected in time (docs/calls.md "Restarts"). */
export const SERVER_RESTART_END_REASON = 'server_restart';

/** How often expired `Idempotency-Key`s are deleted, in ms. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** The `data` of session webhook events: the session object's core fields (vendor docs "Event Structure"). */
export function sessionEventData(session: StoredCallSession): Record<string, unknown> {
  return {
    id: session.id, object: 'session', status: session.status, mode: session.mode,
    source_language: session.sourceLanguage, target_language: session.targetLanguage,
    provider: session.provider ? { type: session.provider.type, phone_number: session.provider.phoneNumber, status: session.provider.status, call_sid: session.provider.callSid } : null,
    metadata: session.metadata, duration: sessionDurationS(session),
    created_at: isoSeconds(session.createdAt), started_at: session.startedAt ? isoSeconds(session.startedAt) : null,
    ended_at: session.endedAt ? isoSeconds(session.endedAt) : null, ...(session.endReason ? { end_reason: session.endReason } : {}),
  };
}

/**
 * The process context of the calls surface (spec 004, docs/calls.md): {@link AppContext} with the
 * calls runtime that the composition root (`src/server.ts`) creates. The calls routes and the calls stream take it; the shared
 * context does not name this service, which sits above it (docs/architecture.md "Layers").
 */
export interface CallsContext extends AppContext {
  /** The calls surface's runtime: sessions, live calls, webhooks. Set by the composition root (`src/server.ts`). */
  callSessions?: CallsService | undefined;
}

/**
 * The calls surface's runtime (spec 004, docs/calls.md): session lifecycle transitions with their
 * webhook events, webhook delivery, and the {@link CallControl} the telephony side uses. Live
 * legs (stream sockets and provider media) are joined per session by {@link CallsService.rooms}.
 */
export class CallsService implements CallControl {
  readonly webhooks: WebhookDelivery;
  /** The live calls of this process. */
  readonly rooms: CallRooms;
  /**
   * The `llm` engines of `TOLK_ENGINES` (or the deprecated `TOLK_LLM_*` shorthand) that answer in
   * the `ai_agent` and `help_chat_voice` modes; undefined when none is configured (those modes are 422).
   */
  readonly llm: ChatModel | undefined;
  private purge: NodeJS.Timeout | undefined;
  private readonly endHooks: Array<(session: StoredCallSession) => Promise<void>> = [];
  /** Interrupted calls waiting for a participant to reconnect, by session id. */
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly ctx: () => AppContext, private readonly log: FastifyBaseLogger) {
    const c = ctx().config.calls;
    this.webhooks = new WebhookDelivery(() => ctx().db, {
      retryBaseMs: c.webhookRetryBaseMs, maxAttempts: c.webhookMaxAttempts, timeoutMs: c.webhookTimeoutMs, egress: c.webhookEgress, concurrency: c.webhookConcurrency,
    }, log, ctx().redis);
    const chat = createChatModel(readEnginesConfig(ctx().config.engines), { shorthand: c.llm, onRequest: (r) => ctx().metrics.engineRequest(r) });
    this.llm = chat.model;
    logShorthand(log, chat.shorthand);
    this.rooms = new CallRooms(ctx, this, log);
    this.onSessionEnded((session) => this.rooms.end(session, session.endReason ?? 'completed'));
  }

  /**
   * Stores and sends a webhook event for a session: to its `webhook_url`, else to the organization's
   * endpoint URL; nothing when neither is set.
   */
  async emit(session: Pick<StoredCallSession, 'id' | 'organizationId' | 'webhookUrl'>, type: CallWebhookEventType, data: Record<string, unknown>): Promise<void> {
    const url = session.webhookUrl ?? (await findWebhookEndpoint(this.ctx().db, session.organizationId))?.url;
    if (!url) return;
    const event = await recordWebhookEvent(this.ctx().db, { organizationId: session.organizationId, sessionId: session.id, type, data, url });
    await this.webhooks.enqueue(event.id);
  }

  /** The session became active (first leg streaming, or the provider connected): `session.started` once. */
  async markActive(sessionId: string): Promise<StoredCallSession | undefined> {
    const moved = await advanceCallSession(this.ctx().db, sessionId, 'active');
    if (moved?.changed) await this.emit(moved.session, 'session.started', sessionEventData(moved.session));
    return moved?.session;
  }

  /**
   * Ends a session (idempotent; `POST …/end`, `session.end` on the socket, the provider hanging up):
   * the provider call is hung up, `session.ended` is sent, live legs close (their last utterance
   * finishes), then `transcript.ready` and, when recording, `recording.ready` follow.
   */
  async endSession(sessionId: string, reason: string): Promise<StoredCallSession | undefined> {
    const moved = await advanceCallSession(this.ctx().db, sessionId, 'ended', reason);
    if (!moved?.changed) return moved?.session;
    const session = moved.session;
    const callId = session.provider?.callSid;
    if (callId && this.ctx().telephony && session.provider?.status !== 'completed' && session.provider?.status !== 'failed') {
      await this.ctx().telephony?.hangUp(callId).catch(() => undefined);
    }
    await this.finishEnding(session, new Set());
    return session;
  }

  /**
   * What follows a session's end: `session.ended`, the end hooks (live legs close, the recording is
   * written), `transcript.ready` — each event unless its type is in `sent` (already stored).
   */
  private async finishEnding(session: StoredCallSession, sent: ReadonlySet<string>): Promise<void> {
    if (!sent.has('session.ended')) await this.emit(session, 'session.ended', sessionEventData(session));
    for (const hook of this.endHooks) await hook(session);
    if (sent.has('transcript.ready')) return;
    const segments = await listTranscriptSegments(this.ctx().db, session.id);
    await this.emit(session, 'transcript.ready', {
      object: 'transcript', session_id: session.id, status: 'complete', segment_count: segments.length, word_count: wordCount(segments),
    });
  }

  /**
   * Calls a previous process left live in this data dir (crash or shutdown; docs/calls.md
   * "Restarts"): an ended one gets what its end left undone (events, the recording); a live one
   * waits `resumeGraceMs` for a participant to reconnect (the call resumes, its recording continues)
   * and is otherwise ended with `end_reason` `server_restart`.
   */
  private async recoverInterruptedCalls(): Promise<void> {
    const ctx = this.ctx();
    for (const id of interruptedSessionIds(recordingsDir(ctx.config.dataDir))) {
      const session = await getCallSessionById(ctx.db, id);
      if (!session) continue;
      if (session.status === 'ended') {
        await this.finishEnding(session, await sessionWebhookEventTypes(ctx.db, id));
        continue;
      }
      const timer = setTimeout(() => {
        this.resumeTimers.delete(id);
        void (async () => {
          if (await this.rooms.get(id)) return; // a participant came back: the call resumed
          await this.endSession(id, SERVER_RESTART_END_REASON);
        })().catch((err: unknown) => this.log.error({ err, sessionId: id }, 'ending an interrupted call failed'));
      }, ctx.config.calls.resumeGraceMs);
      timer.unref();
      this.resumeTimers.set(id, timer);
    }
  }

  /** Runs `hook` when a session ends, before `transcript.ready` (the call rooms close their legs and recordings). */
  onSessionEnded(hook: (session: StoredCallSession) => Promise<void>): void {
    this.endHooks.push(hook);
  }

  /**
   * Places the session's outbound call when it names a phone number, no existing call, and a
   * telephony provider is configured: the session becomes `connecting`; a refusal marks the
   * provider `failed` (and ends the session, `session.provider.disconnected`).
   */
  placeCallInBackground(session: StoredCallSession, log: FastifyBaseLogger): void {
    const telephony = this.ctx().telephony;
    if (!telephony || !session.provider?.phoneNumber || session.provider.callSid) return;
    void (async () => {
      await advanceCallSession(this.ctx().db, session.id, 'connecting');
      try {
        const { providerCallId } = await telephony.placeCall(session);
        await setProviderStatus(this.ctx().db, session.id, session.provider?.status ?? 'pending', providerCallId);
      } catch (err) {
        log.warn({ err, sessionId: session.id }, 'placing the call failed');
        await this.reportProviderStatus(session.id, { status: 'failed', reason: err instanceof Error ? err.message : 'call refused' });
      }
    })().catch((err: unknown) => log.error({ err, sessionId: session.id }, 'placing the call failed'));
  }

  /** {@inheritDoc CallControl.reportProviderStatus} */
  async reportProviderStatus(sessionId: string, update: ProviderStatusUpdate): Promise<void> {
    const before = await getCallSessionById(this.ctx().db, sessionId);
    if (!before) throw new AppError('NOT_FOUND', `No such session: ${sessionId}`);
    if (before.provider?.status === update.status && (!update.providerCallId || before.provider.callSid === update.providerCallId)) return;
    const session = await setProviderStatus(this.ctx().db, sessionId, update.status, update.providerCallId);
    if (!session) return;
    const data = { ...sessionEventData(session), ...(update.reason ? { reason: update.reason } : {}) };
    if (update.status === 'ringing') await advanceCallSession(this.ctx().db, sessionId, 'connecting');
    if (update.status === 'connected') {
      await this.emit(session, 'session.provider.connected', data);
      await this.markActive(sessionId);
    }
    if (update.status === 'completed' || update.status === 'failed') {
      await this.emit(session, 'session.provider.disconnected', data);
      if (session.status !== 'ended') await this.endSession(sessionId, update.status === 'failed' ? 'error' : 'customer_hangup');
    }
  }

  /** {@inheritDoc CallControl.attachMediaLeg} */
  async attachMediaLeg(sessionId: string, leg: CallLeg, format: MediaFormat, sink: MediaLegSink): Promise<MediaLeg> {
    const problem = callAudioFormatProblem(callFormatOf(format));
    if (problem) throw new AppError('BAD_REQUEST', problem);
    const participant = new MediaParticipant(leg, format, sink);
    const joined = await this.rooms.join(sessionId, participant);
    if (!joined.ok) throw new AppError(joined.status === 404 ? 'NOT_FOUND' : joined.status === 401 ? 'UNAUTHORIZED' : 'CONFLICT', joined.description);
    const room = joined.room;
    participant.attached(room, (p) => this.rooms.leave(room, p));
    return participant.mediaLeg;
  }

  /** {@inheritDoc CallControl.verifyStreamToken} */
  async verifyStreamToken(sessionId: string, token: string): Promise<boolean> {
    const session = await getCallSessionById(this.ctx().db, sessionId);
    return session !== undefined && streamTokenMatches(session, token);
  }

  /** {@inheritDoc CallControl.getSession} */
  async getSession(sessionId: string): Promise<CallSession | undefined> {
    return getCallSessionById(this.ctx().db, sessionId);
  }

  /**
   * Picks up webhook events a previous process left pending and the calls it left live; forgets
   * expired idempotency keys hourly.
   */
  async start(): Promise<void> {
    await this.webhooks.recover();
    await this.recoverInterruptedCalls();
    this.purge = setInterval(() => void purgeExpiredIdempotencyKeys(this.ctx().db).catch(() => undefined), PURGE_INTERVAL_MS);
    this.purge.unref();
  }

  /** Ends the live calls of this process and stops webhook delivery (attempts in flight finish). */
  async close(): Promise<void> {
    clearInterval(this.purge);
    for (const timer of this.resumeTimers.values()) clearTimeout(timer);
    this.resumeTimers.clear();
    await this.rooms.close();
    await this.webhooks.close();
    await this.llm?.close();
  }
}

/** The one-line start-up note of the deprecated `TOLK_LLM_*` shorthand (docs/calls.md "Settings"). */
function logShorthand(log: FastifyBaseLogger, use: ShorthandUse): void {
  if (use === 'used') log.warn(`TOLK_LLM_BASE_URL is deprecated: it runs as engine "${LLM_SHORTHAND_ID}" (kind llm, name openai-chat); declare an llm engine in TOLK_ENGINES instead (docs/engines.md "Engines: openai-chat (LLM)")`);
  if (use === 'ignored') log.warn('TOLK_LLM_BASE_URL is deprecated and ignored: TOLK_ENGINES declares an llm engine (docs/engines.md "Engines: openai-chat (LLM)")');
}

/** True when `token` is the session's stream token, it has not expired and the session has not ended. */
export function streamTokenMatches(session: StoredCallSession, token: string, now = new Date()): boolean {
  const a = Buffer.from(session.streamToken);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b) && session.streamExpiresAt > now && session.status !== 'ended';
}
