import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { addPhoneTranscript, findPhoneCall, phoneTranscriptCount, updatePhoneCall, type PhoneCallRecord } from '../../domain/phone-calls.js';
import type { Database } from '../../db/client.js';
import { AppError } from '../../errors.js';
import { vapiWebhookDocs } from './webhook-schemas.js';

/** A Vapi server message (docs.vapi.ai "Server events"), as far as Tolk reads it. */
interface VapiMessage {
  type?: unknown;
  call?: { id?: unknown } | null;
  status?: unknown;
  endedReason?: unknown;
  role?: unknown;
  transcriptType?: unknown;
  transcript?: unknown;
  startedAt?: unknown;
  endedAt?: unknown;
  timestamp?: unknown;
  artifact?: { messages?: unknown } | null;
}

/** What a message did: `updated` the call, `ignored` (a type Tolk does not act on), or `unknown-call`. */
type VapiOutcome = 'updated' | 'ignored' | 'unknown-call';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const instant = (v: unknown): Date | undefined => {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** True when `given` equals `expected`, compared in constant time. */
function secretMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Stores the turns of an end-of-call report (`artifact.messages`: `user` and `bot`), unless live transcripts came already. */
async function storeReportTranscripts(db: Database, call: PhoneCallRecord, messages: unknown): Promise<void> {
  if (!Array.isArray(messages) || (await phoneTranscriptCount(db, call)) > 0) return;
  for (const m of messages as Array<{ role?: unknown; message?: unknown; time?: unknown; duration?: unknown }>) {
    const speaker = m.role === 'user' ? 'user' : m.role === 'bot' || m.role === 'assistant' ? 'assistant' : undefined;
    const text = str(m.message);
    if (!speaker || !text) continue;
    await addPhoneTranscript(db, call, { speaker, text, at: instant(m.time) ?? new Date(), durationMs: typeof m.duration === 'number' ? m.duration : undefined });
  }
}

/**
 * Applies one message to its call: Vapi's `status-update`, `end-of-call-report`, `transcript` (final
 * only) and `hang`, and spec 000's `call-started`, `call-ended`, `transcript`, `hang`.
 */
async function applyVapiMessage(db: Database, m: VapiMessage, now: Date): Promise<VapiOutcome> {
  const type = str(m.type);
  const known = ['status-update', 'end-of-call-report', 'transcript', 'hang', 'call-started', 'call-ended'];
  if (!type || !(known.includes(type) || type.startsWith('transcript['))) return 'ignored';
  const callId = str(m.call?.id);
  const call = callId ? await findPhoneCall(db, callId) : undefined;
  if (!call) return 'unknown-call';
  const endedReason = str(m.endedReason);
  if (type === 'status-update') {
    const status = str(m.status) ?? call.status;
    await updatePhoneCall(db, call.id, {
      status, endedReason, startedAt: status === 'in-progress' ? now : undefined, endedAt: status === 'ended' ? now : undefined,
    });
  } else if (type === 'call-started') {
    await updatePhoneCall(db, call.id, { status: 'in-progress', startedAt: instant(m.startedAt) ?? now });
  } else if (type === 'call-ended' || type === 'end-of-call-report') {
    await updatePhoneCall(db, call.id, { status: 'ended', endedReason, startedAt: instant(m.startedAt), endedAt: instant(m.endedAt) ?? now });
    if (type === 'end-of-call-report') await storeReportTranscripts(db, call, m.artifact?.messages);
  } else if (type === 'hang') {
    return 'updated'; // the assistant failed to answer in time: acknowledged (and logged by the route)
  } else if (m.transcriptType === undefined || m.transcriptType === 'final') {
    const text = str(m.transcript);
    if (text) await addPhoneTranscript(db, call, { speaker: m.role === 'assistant' ? 'assistant' : 'user', text, at: instant(m.timestamp) ?? now });
  }
  return 'updated';
}

/**
 * `POST /webhooks/vapi` (spec 000 "Webhooks (Inbound)", docs/phone.md): the `x-vapi-secret` header
 * must equal `VAPI_WEBHOOK_SECRET` (401 `UNAUTHORIZED` otherwise; checked before the body is
 * parsed); the body is Vapi's `{"message": {...}}` (or a bare message). Call status and end reason
 * are stored with the call, final transcripts as utterances of its session (shown in the session's
 * intelligence). Answers `{"received":true,"result":"updated"|"ignored"|"unknown-call"}`; 400 for a
 * body that is not a JSON object; 501 without `VAPI_WEBHOOK_SECRET`.
 */
export async function vapiWebhook(app: FastifyInstance, ctx: AppContext, rawBody: (request: FastifyRequest) => Buffer): Promise<void> {
  app.post('/webhooks/vapi', { schema: { tags: ['webhooks'], summary: 'Vapi server messages (shared secret: x-vapi-secret)', security: [], docs: vapiWebhookDocs } }, async (request) => {
    const secret = ctx.config.vapi.webhookSecret;
    if (!secret) throw new AppError('NOT_IMPLEMENTED', 'Vapi webhooks are not configured on this server: set VAPI_WEBHOOK_SECRET (docs/phone.md)');
    if (!secretMatches(request.headers['x-vapi-secret'], secret)) throw new AppError('UNAUTHORIZED', 'Missing or wrong x-vapi-secret');
    let body: unknown;
    try {
      body = JSON.parse(rawBody(request).toString('utf8'));
    } catch {
      throw new AppError('BAD_REQUEST', 'The body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('BAD_REQUEST', 'The body must be a JSON object: {"message": {...}}');
    const envelope = body as { message?: unknown };
    const message = (typeof envelope.message === 'object' && envelope.message !== null ? envelope.message : body) as VapiMessage;
    const result = await applyVapiMessage(ctx.db, message, new Date());
    const log = { type: message.type, callId: message.call?.id, result };
    if (message.type === 'hang') request.log.warn(log, 'vapi: the assistant did not answer in time (hang)');
    else request.log.info(log, 'vapi webhook');
    return { received: true, result };
  });
}
