import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';

/** Placeholder until the Vapi webhook is handled: 501. */
export async function vapiWebhook(app: FastifyInstance, _ctx: AppContext, _rawBody: (request: FastifyRequest) => Buffer): Promise<void> {
  app.post('/webhooks/vapi', { schema: { tags: ['webhooks'], summary: 'Vapi webhook', security: [] } }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Vapi webhooks are not handled by this server yet');
  });
}
