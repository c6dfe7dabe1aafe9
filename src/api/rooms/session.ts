import { randomBytes } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from '../../context.js';
import { isLanguageTag } from '../../common/language-tags.js';
import { authenticateApiKey } from '../../domain/api-keys.js';
import { createSession, abandonSession, sessionLanguageProblem } from '../../domain/sessions.js';
import { mintRoomToken } from '../../integrations/livekit.js';
import { supportedPairs } from '../../providers/registry.js';
import { InterpreterCapacityError, sessionInterpreterSpec } from '../../transports/livekit/interpreter-manager.js';
import { roomSessionBody as createBody, roomSessionDocs } from './openapi-schemas.js';

/**
 * The error codes of spec 001 ("Error Responses"), plus `invalid_request` for a body that is not the
 * documented shape, `request_too_large` (413) for a body over the limit and `not_configured` (503)
 * when the server has no LiveKit.
 */
export type RoomsErrorCode = 'invalid_language' | 'invalid_request' | 'request_too_large' | 'invalid_token' | 'rate_limit_exceeded' | 'not_configured' | 'internal_error';

/** The spec-001 error body: `{"error":{"code","message"}}` with a lower-case code. */
export interface RoomsErrorBody {
  error: { code: RoomsErrorCode; message: string };
}

const STATUS: Record<RoomsErrorCode, number> = {
  invalid_language: 400, invalid_request: 400, request_too_large: 413, invalid_token: 401, rate_limit_exceeded: 429, not_configured: 503, internal_error: 500,
};

/** Sends a spec-001 error with its status. */
function sendRoomsError(reply: FastifyReply, code: RoomsErrorCode, message: string): FastifyReply {
  const body: RoomsErrorBody = { error: { code, message } };
  return reply.code(STATUS[code]).type('application/json').send(body);
}

/** Display name of the client participant in a spec-001 room (as in spec 001's example token). */
const CLIENT_NAME = 'API Client';

/** The body problem as a spec-001 error: a missing or malformed language is `invalid_language`. */
function bodyError(error: z.ZodError): { code: RoomsErrorCode; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const code = field === 'source_language' || field === 'target_language' ? 'invalid_language' : 'invalid_request';
  return { code, message: issue?.message.startsWith(field) ? issue.message : `Invalid ${field || 'body'}: ${issue?.message ?? 'invalid value'}` };
}

/** Why the pair cannot be translated, in spec 001's words, or undefined. */
function languageProblem(ctx: AppContext, source: string, target: string): string | undefined {
  if (!isLanguageTag(source)) return `Unsupported source language: ${source} (use a BCP 47 tag such as en-US)`;
  if (!isLanguageTag(target)) return `Unsupported target language: ${target} (use a BCP 47 tag such as es-ES)`;
  const problem = sessionLanguageProblem(supportedPairs(ctx.engines), source, target);
  if (!problem) return undefined;
  const side = problem.includes('source_lang') ? `source language: ${source}` : `target language: ${target}`;
  return `Unsupported ${side}. ${problem.replace(/_lang\b/g, '_language')}`;
}

/**
 * `POST /api/beta1/session` (spec 001 "Create Translation Session"), in a scope of its own with
 * spec 001's error shape: the API key (`Authorization: Bearer`) is authenticated first (401
 * `invalid_token`, not counted), then counted against the per-key limit (`TOLK_RATE_LIMIT_PER_MIN`,
 * its own budget; 429 `rate_limit_exceeded`). A valid request creates a platform session whose
 * LiveKit room is `api-<random>`, creates the room and answers the room's `url`, a client `token`
 * and the `room_name` at once; the interpreter joins with the first participant. Beyond
 * `TOLK_MAX_INTERPRETERS` (without Redis) it answers 429 `rate_limit_exceeded`. See docs/rooms.md.
 */
export async function roomSessionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.statusCode === 429) return sendRoomsError(reply, 'rate_limit_exceeded', error.message);
    if (error.statusCode === 413) return sendRoomsError(reply, 'request_too_large', 'The request body is larger than this server accepts.');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendRoomsError(reply, 'invalid_request', `Invalid request: ${error.message}`);
    }
    request.log.error({ err: error }, 'spec-001 session request failed');
    return sendRoomsError(reply, 'internal_error', 'An internal error occurred');
  });
  app.addHook('onRequest', async (request, reply) => {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const principal = m?.[1] ? await authenticateApiKey(ctx.db, m[1]) : undefined;
    if (!principal) return sendRoomsError(reply, 'invalid_token', 'Invalid or expired API token');
    request.principal = principal;
  });
  await app.register(fastifyRateLimit, {
    max: ctx.config.rateLimitPerMin,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    ...(ctx.redis ? { redis: ctx.redis, nameSpace: 'tolk:ratelimit:rooms:' } : {}),
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} sessions a minute per API key. Retry after ${Math.ceil(context.ttl / 1000)} seconds.`), { statusCode: 429 }),
  });

  const schema = { tags: ['rooms'], summary: 'Create a translation session in a LiveKit room (spec 001)', docs: roomSessionDocs };
  app.post('/api/beta1/session', { schema }, async (request, reply) => {
    const principal = request.principal;
    if (!principal) return sendRoomsError(reply, 'invalid_token', 'Invalid or expired API token');
    const body = createBody.safeParse(request.body ?? {});
    if (!body.success) {
      const e = bodyError(body.error);
      return sendRoomsError(reply, e.code, e.message);
    }
    const { source_language: source, target_language: target, voice_type: voiceType, simultaneous } = body.data;
    const problem = languageProblem(ctx, source, target);
    if (problem) return sendRoomsError(reply, 'invalid_language', problem);
    if (!ctx.config.liveKit.configured) {
      return sendRoomsError(reply, 'not_configured', 'LiveKit is not configured on this server: the operator must set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
    }
    try {
      ctx.interpreterDispatch.checkCapacity();
    } catch (err) {
      if (!(err instanceof InterpreterCapacityError)) throw err;
      void reply.header('retry-after', '30');
      return sendRoomsError(reply, 'rate_limit_exceeded', err.message);
    }
    const { session, participantId } = await createSession(ctx.db, {
      organizationId: principal.organizationId, createdByKeyId: principal.keyId, sourceLang: source, targetLang: target,
      speakerName: CLIENT_NAME, creatorRole: principal.role, mode: principal.mode, roomName: `api-${randomBytes(8).toString('hex')}`,
    });
    try {
      await ctx.interpreterDispatch.prepare(sessionInterpreterSpec(session, participantId, principal, { voiceType, labelSpeakers: false, simultaneous }), request.log);
    } catch (err) {
      // No room, no interpreter: the session ends before anyone could use it.
      await abandonSession(ctx.db, session.id).catch(() => undefined);
      throw err;
    }
    const token = await mintRoomToken(ctx.config.liveKit, { room: session.roomName, identity: participantId, name: CLIENT_NAME, ttlS: ctx.config.roomTokenTtlS });
    return { url: ctx.config.liveKit.url, token, room_name: session.roomName };
  });
}
