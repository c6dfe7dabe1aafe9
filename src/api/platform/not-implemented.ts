import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { requireRole } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorBody, errorResponses } from './schemas.js';

/**
 * Routes spec 000 documents that this Tolk does not serve yet. They answer the spec's own
 * `501 NOT_IMPLEMENTED` (not a 404), so a client can tell an unbuilt feature from a wrong URL; the
 * message says what is missing. Authenticated ones check the key and the documented role first.
 */
export const notImplementedRoutes: PlatformRoutePlugin = async (app, _ctx) => {
  const schema = (summary: string, tag: string) => ({ tags: [tag], summary, response: { ...errorResponses, 501: errorBody } });

  app.post('/sessions/:id/phone/start', { preHandler: requireRole('admin'), schema: schema('Outbound PSTN call (not available yet: 501)', 'sessions') }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Outbound phone calls are not available on this server yet: no telephony provider (Vapi or Twilio) is integrated');
  });
  app.get('/billing/invoices', { preHandler: requireRole('admin'), schema: schema('Recent invoices (not available yet: 501)', 'billing') }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Billing is not available on this server yet: no Stripe integration is configured');
  });
};

/**
 * The inbound webhooks of spec 000 ("Webhooks (Inbound)"), unauthenticated as the providers call
 * them: `501 NOT_IMPLEMENTED` until their integrations exist.
 */
export async function notImplementedWebhooks(app: FastifyInstance): Promise<void> {
  const schema = (summary: string) => ({ tags: ['webhooks'], summary, security: [], response: { 501: errorBody } });
  app.post('/webhooks/stripe', { schema: schema('Stripe webhook (not available yet: 501)') }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Stripe webhooks are not handled by this server yet: billing is not integrated');
  });
  app.post('/webhooks/vapi', { schema: schema('Vapi webhook (not available yet: 501)') }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Vapi webhooks are not handled by this server yet: phone calls are not integrated');
  });
}
