import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey } from '../../domain/api-keys.js';
import { issueSessionKey } from '../../domain/session-keys.js';
import type { AppContext } from '../../context.js';
import { errorEvent } from '../../realtime/stream-events.js';
import { VtConnection } from '../../transports/vt.js';
import { sessionTokenDocs, sessionTokenQuery } from './openapi-schemas.js';

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
 * The key a `/vt` client sent when it connected, in order of precedence (docs/decisions.md): the
 * `authorization` query parameter (spec 002 Part 1; the name in any case), then the
 * `Authorization` header (the session flow of spec 002 Part 2). Either may read `api-key <KEY>`,
 * `Bearer <KEY>` or the bare key. Undefined when neither is there; the config's `api_key` is the
 * last resort, read by the connection.
 */
export function connectKey(query: Record<string, unknown>, authorizationHeader: string | undefined): string | undefined {
  const name = Object.keys(query).find((k) => k.toLowerCase() === 'authorization');
  const raw = name === undefined ? undefined : query[name];
  const fromQuery = keyFromAuthorization(typeof raw === 'string' ? raw : Array.isArray(raw) ? String(raw[0]) : undefined);
  return fromQuery || keyFromAuthorization(authorizationHeader) || undefined;
}

/** Sends a spec 002 error body `{"error":{code,reason,description}}` with its status. */
function sendStreamError(reply: FastifyReply, status: number, description: string): FastifyReply {
  return reply.code(status).type('application/json').send(errorEvent(status, description));
}

/**
 * `GET /v2/sdk/voice-translation/session/token` (spec 002 Part 1 "Session key generation"), in a
 * scope of its own: the API key is authenticated first (401, not counted), then counted against the
 * per-key limit of the platform API (`TOLK_RATE_LIMIT_PER_MIN` a minute, its own budget, in Redis
 * when `REDIS_URL` is set; past it 429 with `Retry-After`), then the key may hold at most
 * `TOLK_MAX_SESSION_KEYS_PER_KEY` live session keys (429). Errors use the stream's error shape.
 */
async function tokenRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const ttlQuery = sessionTokenQuery(ctx.config.sessionKeyTtlMaxS);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.statusCode === 429) return sendStreamError(reply, 429, error.message);
    request.log.error({ err: error }, 'session token request failed');
    return sendStreamError(reply, 500, 'Server failed to process the request');
  });
  app.addHook('onRequest', async (request, reply) => {
    const key = keyFromAuthorization(request.headers.authorization);
    if (!key) return sendStreamError(reply, 401, 'Missing API key: send Authorization: api-key <API_KEY>');
    const principal = await authenticateApiKey(ctx.db, key);
    if (!principal) return sendStreamError(reply, 401, 'Invalid API key');
    request.principal = principal;
  });
  await app.register(fastifyRateLimit, {
    max: ctx.config.rateLimitPerMin,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    ...(ctx.redis ? { redis: ctx.redis, nameSpace: 'tolk:ratelimit:token:' } : {}),
    skipOnError: true, // Redis unreachable: serve without counting, as the platform API does
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} session key requests a minute per API key. Retry after ${Math.ceil(context.ttl / 1000)} seconds.`), { statusCode: 429 }),
  });

  const schema = {
    tags: ['stream'], summary: 'A session key for the /vt WebSocket (spec 002)', security: [{ apiKeyHeader: [] }],
    docs: sessionTokenDocs(ctx.config.sessionKeyTtlMaxS),
  };
  app.get('/v2/sdk/voice-translation/session/token', { schema }, async (request, reply) => {
    const principal = request.principal;
    if (!principal) return sendStreamError(reply, 401, 'Missing API key: send Authorization: api-key <API_KEY>');
    const query = ttlQuery.safeParse(request.query);
    if (!query.success) {
      return sendStreamError(reply, 400, `expiration_ttl must be an integer number of seconds from 1 to ${ctx.config.sessionKeyTtlMaxS}`);
    }
    const ttlS = query.data.expiration_ttl ?? ctx.config.sessionKeyTtlDefaultS;
    const issued = await issueSessionKey(ctx.sessionKeys, principal, ttlS);
    if (!issued) {
      return sendStreamError(reply, 429, `Too many live session keys: this API key already holds ${ctx.sessionKeys.maxPerKey}; reuse one or wait until some expire`);
    }
    return { data: { session_key: issued.sessionKey, expiration_ttl: ttlS, expires_at: issued.expiresAt.toISOString() } };
  });
}

/**
 * The stream surface (spec 002 Part 1): `GET /v2/sdk/voice-translation/session/token` and the
 * `/vt` WebSocket. HTTP errors use the stream's error shape `{"error":{code,reason,description}}`.
 */
export async function streamRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => tokenRoute(scope, ctx));

  app.get('/vt', { websocket: true }, (socket, request) => {
    const key = connectKey(request.query as Record<string, unknown>, request.headers.authorization);
    new VtConnection(ctx, socket, key, request.log);
  });
}
