import fs from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { createCallSession, findCallSession, type StoredCallSession } from '../../domain/calls/sessions.js';
import { callLanguageProblem } from '../../domain/calls/languages.js';
import { countOpenCallSessions } from '../../domain/calls/limits.js';
import { findRecording, listRecordings, listTranscriptSegments } from '../../domain/calls/transcript.js';
import type { CallsContext, CallsService } from '../../gateway/calls/calls-service.js';
import { sessionEventData } from '../../gateway/calls/calls-service.js';
import { recordingPath } from '../../gateway/calls/recordings.js';
import { AppError } from '../../errors.js';
import { principalOf } from '../platform/auth.js';
import { CallsError, invalidField } from './errors.js';
import { idempotent } from './idempotent.js';
import { renderCreatedSession, renderRecording, renderSession, renderTranscript, streamUrl } from './render.js';
import { assertWebhookDestination, parseCreateSession } from './session-request.js';
import { createSessionDocs, endSessionDocs, getSessionDocs, recordingAudioDocs, recordingDocs, sessionRecordingsDocs, transcriptDocs } from './openapi-schemas.js';
import { telephonyUnavailableError } from '../telephony/twilio.js';

/** `reason` values of `POST /v1/sessions/{id}/end` (vendor "End a session"). */
const END_REASONS = ['completed', 'customer_hangup', 'agent_hangup', 'error', 'timeout'];

/** The calls runtime of the app. */
export function callsOf(ctx: CallsContext): CallsService {
  if (!ctx.callSessions) throw new AppError('INTERNAL_ERROR', 'the calls runtime is not started');
  return ctx.callSessions;
}

/** The caller's session `id`, else 404 `session_not_found` (another organization's is indistinguishable). */
async function ownSession(ctx: AppContext, request: FastifyRequest, id: string): Promise<StoredCallSession> {
  const session = await findCallSession(ctx.db, principalOf(request).organizationId, id);
  if (!session) throw new CallsError('NOT_FOUND', `No such session: '${id}'`, 'session_not_found', 'not_found_error', 'id');
  return session;
}

/**
 * The session routes of spec 004: `POST /v1/sessions` (idempotent with `Idempotency-Key`),
 * `GET /v1/sessions/{id}`, `POST /v1/sessions/{id}/end`, `GET …/transcript`, `GET …/recordings`,
 * `GET /v1/recordings/{id}` and its audio. Any key of the organization may use them; a session of
 * another organization is 404.
 */
export async function sessionRoutes(app: FastifyInstance, ctx: CallsContext): Promise<void> {
  const c = ctx.config.calls;
  const keyLimits = { leaseMs: c.idempotencyLeaseMs, maxKeysPerOrganization: c.maxIdempotencyKeysPerOrg };
  app.post('/sessions', { schema: { tags: ['calls'], description: 'Create a call session (spec 004).', docs: createSessionDocs } }, async (request, reply) => {
    const principal = principalOf(request);
    return idempotent(ctx.db, request, reply, principal.organizationId, async () => {
      const body = parseCreateSession(request.body);
      assertWebhookDestination(ctx.config.calls.webhookEgress, body.webhookUrl, 'webhook_url');
      const languageProblem = callLanguageProblem(body.sourceLanguage, body.targetLanguage);
      if (languageProblem) throw invalidField(languageProblem.field, languageProblem.message, 'unsupported_language');
      if (await countOpenCallSessions(ctx.db, principal.organizationId) >= c.maxOpenSessionsPerOrg) {
        throw new CallsError('RATE_LIMITED', `This organization has ${c.maxOpenSessionsPerOrg} open sessions, the most it may (TOLK_MAX_OPEN_CALL_SESSIONS_PER_ORG); end one first.`, 'too_many_open_sessions', 'rate_limit_error');
      }
      if ((body.mode === 'ai_agent' || body.mode === 'help_chat_voice') && !callsOf(ctx).llm) {
        throw new CallsError('UNPROCESSABLE', `Mode ${body.mode} needs an LLM engine: add an "llm" list to TOLK_ENGINES (an openai-chat engine: an OpenAI-compatible chat-completions server), or set the deprecated TOLK_LLM_BASE_URL and TOLK_LLM_MODEL.`, 'llm_not_configured', 'validation_error', 'mode');
      }
      if (body.provider && !ctx.telephony) {
        throw new CallsError('UNPROCESSABLE', telephonyUnavailableError(ctx.config).message, 'telephony_not_configured', 'validation_error', 'provider');
      }
      const session = await createCallSession(ctx.db, {
        ...body, organizationId: principal.organizationId, createdByKeyId: principal.keyId, keyMode: principal.mode,
        streamTokenTtlS: ctx.config.calls.streamTokenTtlS,
      });
      const calls = callsOf(ctx);
      await calls.emit(session, 'session.created', sessionEventData(session));
      calls.placeCallInBackground(session, request.log);
      return { status: 201, body: renderCreatedSession(session, streamUrl(ctx.config.calls, request, session.id)) };
    }, keyLimits);
  });

  app.get<{ Params: { id: string } }>('/sessions/:id', { schema: { tags: ['calls'], summary: 'Retrieve a call session', docs: getSessionDocs } }, async (request) => {
    const session = await ownSession(ctx, request, request.params.id);
    return renderSession(session, streamUrl(ctx.config.calls, request, session.id), await listTranscriptSegments(ctx.db, session.id));
  });

  app.post<{ Params: { id: string } }>('/sessions/:id/end', { schema: { tags: ['calls'], summary: 'End a call session', docs: endSessionDocs } }, async (request, reply) => {
    const principal = principalOf(request);
    return idempotent(ctx.db, request, reply, principal.organizationId, async () => {
      const session = await ownSession(ctx, request, request.params.id);
      const raw = (request.body ?? {}) as { reason?: unknown };
      if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidField('body', 'The request body must be a JSON object.', 'invalid_request');
      const reason = raw.reason ?? 'completed';
      if (typeof reason !== 'string' || !END_REASONS.includes(reason)) throw invalidField('reason', `reason must be one of ${END_REASONS.join(', ')}.`);
      const ended = (await callsOf(ctx).endSession(session.id, reason)) ?? session;
      const body = renderSession(ended, streamUrl(ctx.config.calls, request, session.id), await listTranscriptSegments(ctx.db, session.id));
      return { status: 200, body };
    }, keyLimits);
  });

  app.get<{ Params: { id: string }; Querystring: { format?: string; include_translations?: string } }>('/sessions/:id/transcript', { schema: { tags: ['calls'], summary: 'A call session\'s transcript', docs: transcriptDocs } }, async (request, reply) => {
    const session = await ownSession(ctx, request, request.params.id);
    const format = request.query.format ?? 'json';
    if (format !== 'json' && format !== 'text') throw invalidField('format', 'format must be json or text.');
    const segments = await listTranscriptSegments(ctx.db, session.id);
    const withTranslations = request.query.include_translations !== 'false';
    if (format === 'text') {
      const lines = segments.map((s) => `[${s.speaker}] ${s.text}${withTranslations && s.translation ? `\n  → ${s.translation}` : ''}`);
      return reply.type('text/plain; charset=utf-8').send(lines.join('\n'));
    }
    return renderTranscript(session, segments, withTranslations);
  });

  app.get<{ Params: { id: string }; Querystring: { channel?: string } }>('/sessions/:id/recordings', { schema: { tags: ['calls'], summary: 'A call session\'s recordings', docs: sessionRecordingsDocs } }, async (request) => {
    const session = await ownSession(ctx, request, request.params.id);
    const rows = (await listRecordings(ctx.db, session.id)).filter((r) => !request.query.channel || r.channel === request.query.channel);
    return { object: 'list', data: rows.map(renderRecording), session_id: session.id };
  });

  app.get<{ Params: { id: string } }>('/recordings/:id', { schema: { tags: ['calls'], summary: 'Retrieve a recording', docs: recordingDocs } }, async (request) => {
    const rec = await findRecording(ctx.db, principalOf(request).organizationId, request.params.id);
    if (!rec) throw new CallsError('NOT_FOUND', `No such recording: '${request.params.id}'`, 'recording_not_found', 'not_found_error', 'id');
    return renderRecording(rec);
  });

  app.get<{ Params: { id: string } }>('/recordings/:id/audio', { schema: { tags: ['calls'], summary: 'Download a recording (WAV)', docs: recordingAudioDocs } }, async (request, reply) => {
    const rec = await findRecording(ctx.db, principalOf(request).organizationId, request.params.id);
    if (!rec || rec.status !== 'ready') throw new CallsError('NOT_FOUND', `No such recording: '${request.params.id}'`, 'recording_not_found', 'not_found_error', 'id');
    const file = recordingPath(ctx.config.dataDir, rec.path);
    const size = (await fs.promises.stat(file)).size;
    return reply
      .type('audio/wav')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="recording-${rec.sessionId}-${rec.channel}.wav"`)
      .send(fs.createReadStream(file));
  });
}
