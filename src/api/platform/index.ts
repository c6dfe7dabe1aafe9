import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.js';
import { apiKeyRoutes } from './api-keys.js';
import { authenticate } from './auth.js';
import { handlePlatformError, platformError } from './errors.js';
import { healthRoutes } from './health.js';
import { webhookRoutes } from './webhooks.js';

/** Plugins that add authenticated platform routes (sessions, glossary…), each in its own file. */
export type PlatformRoutePlugin = (app: FastifyInstance, ctx: AppContext) => Promise<void>;

/**
 * The platform surface (spec 000), mounted at `/api`: health probes without authentication;
 * everything else behind `Authorization: Bearer <key>` and a per-key rate limit (spec 000 "Rate
 * limits": `X-RateLimit-*` headers on every authenticated response, 429 `RATE_LIMITED` with
 * `Retry-After`), counted in Redis when `REDIS_URL` is set so every process shares the budget.
 * Request and response schemas are zod; the same schemas produce `/api/openapi.json` and `/api/docs`.
 */
export async function platformRoutes(app: FastifyInstance, ctx: AppContext, routePlugins: readonly PlatformRoutePlugin[] = []): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handlePlatformError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(platformError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });

  // @fastify/swagger itself is registered at the root (src/api/openapi.ts) so it sees every surface.
  // The UI's page at /api/docs (no slash) links its assets as /docs/static/… (404: the /api prefix
  // is lost); at /api/docs/ they are relative and load. The README's /api/docs goes there.
  app.addHook('onRequest', async (request, reply) => {
    const [pathname, query] = request.url.split('?', 2);
    if (pathname === '/api/docs') await reply.redirect(`/api/docs/${query === undefined ? '' : `?${query}`}`, 301);
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (pub) => healthRoutes(pub, ctx));
  await app.register(async (hooks) => webhookRoutes(hooks, ctx));

  await app.register(async (authed) => {
    authed.addHook('onRequest', authenticate(ctx));
    await authed.register(fastifyRateLimit, {
      max: ctx.config.rateLimitPerMin,
      timeWindow: 60_000,
      keyGenerator: (request) => request.principal?.keyId ?? request.ip,
      ...(ctx.redis ? { redis: ctx.redis, nameSpace: 'tolk:ratelimit:' } : {}),
      // Redis unreachable: serve without counting rather than fail every request (logged by the client).
      skipOnError: true,
      errorResponseBuilder: (_request, context) => Object.assign(new Error(`Too many requests. Retry after ${Math.ceil(context.ttl / 1000)} seconds.`), { statusCode: 429 }),
    });
    await apiKeyRoutes(authed, ctx);
    for (const plugin of routePlugins) await plugin(authed, ctx);
  });
}
