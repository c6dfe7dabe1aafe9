import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { CallsContext } from '../../gateway/calls/calls-service.js';
import { jsonDeeperThan } from '../../common/json-depth.js';
import { authenticate } from '../platform/auth.js';
import { CallsError, handleCallsError, invalidField } from './errors.js';
import { listSessionRoute } from './list.js';
import { sessionRoutes } from './sessions.js';
import { webhookRoutes } from './webhooks.js';

/** Deepest nesting of a request body (objects and arrays), in levels. */
export const MAX_BODY_DEPTH = 32;

/**
 * The calls surface (spec 004, docs/calls.md); register it with prefix `/v1`: every route needs
 * `Authorization: Bearer <API key>` of the organization and answers errors in the vendor's shape.
 * A body nested deeper than {@link MAX_BODY_DEPTH} levels is 400 `invalid_request`; a path
 * parameter with a control character (`%00`) names nothing: 404. Each key may make
 * `TOLK_CALLS_RATE_LIMIT_PER_MIN` requests a minute (`X-RateLimit-*` headers; 429 `rate_limit_exceeded` past it).
 * The stream socket (`/v1/sessions/{id}/connect`) is registered by the transports, outside this
 * key-guarded scope (it takes the session's stream token).
 */
export async function callsRoutes(app: FastifyInstance, ctx: CallsContext): Promise<void> {
  app.setErrorHandler(handleCallsError);
  app.addHook('onRequest', authenticate(ctx));
  await app.register(fastifyRateLimit, {
    max: ctx.config.calls.rateLimitPerMin,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    ...(ctx.redis ? { redis: ctx.redis, nameSpace: 'tolk:ratelimit:calls:' } : {}),
    skipOnError: true,
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`Too many requests: at most ${context.max} a minute per API key. Retry after ${Math.ceil(context.ttl / 1000)} seconds.`), { statusCode: 429 }),
  });
  app.addHook('preValidation', async (request) => {
    for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
      // eslint-disable-next-line no-control-regex
      if (typeof value === 'string' && /[\u0000-\u001f\u007f]/.test(value)) throw new CallsError('NOT_FOUND', `No such ${name}: it contains a control character.`, 'resource_not_found', 'not_found_error', name);
    }
    if (jsonDeeperThan(request.body, MAX_BODY_DEPTH)) throw invalidField('body', `The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`, 'invalid_request');
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'resource_not_found', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}`, type: 'not_found_error' } });
  });
  await sessionRoutes(app, ctx);
  await listSessionRoute(app, ctx);
  await webhookRoutes(app, ctx);
}
