import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { authenticate } from '../platform/auth.js';
import { handleCallsError } from './errors.js';
import { sessionRoutes } from './sessions.js';
import { webhookRoutes } from './webhooks.js';

/**
 * The calls surface (spec 004, docs/calls.md); register it with prefix `/v1`: every route needs
 * `Authorization: Bearer <API key>` of the organization and answers errors in the vendor's shape.
 * The stream socket (`/v1/sessions/{id}/connect`) is registered by the transports, outside this
 * key-guarded scope (it takes the session's stream token).
 */
export async function callsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.setErrorHandler(handleCallsError);
  app.addHook('onRequest', authenticate(ctx));
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'resource_not_found', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}`, type: 'not_found_error' } });
  });
  await sessionRoutes(app, ctx);
  await webhookRoutes(app, ctx);
}
