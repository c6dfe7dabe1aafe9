import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { stripeClient } from '../../integrations/stripe.js';
import { handleStripeEvent } from './stripe-events.js';
import { vapiWebhook } from './vapi-webhook.js';
import { stripeWebhookDocs } from './webhook-schemas.js';

/** Largest accepted webhook body, in bytes (Stripe's events are far smaller). */
const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

/** The raw request body (this scope keeps JSON bodies as bytes: signatures cover the bytes). */
function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/**
 * Spec 000 "Webhooks (Inbound)", unauthenticated (the providers call them) but verified:
 * - `POST /webhooks/stripe`: the `Stripe-Signature` header is checked on the raw body against
 *   `STRIPE_WEBHOOK_SECRET` within `STRIPE_WEBHOOK_TOLERANCE_S` (`stripe.webhooks.constructEvent`);
 *   anything else is 400 `BAD_REQUEST`. Each event id is acted on once (docs/billing.md "Webhook");
 *   the answer is `{"received":true,"result":"handled"|"duplicate"|"ignored"}`. 501 without Stripe.
 * - `POST /webhooks/vapi`: see `vapi-webhook.ts` (docs/phone.md).
 */
export async function webhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_request, body, done) => done(null, body));

  app.post('/webhooks/stripe', { schema: { tags: ['webhooks'], summary: 'Stripe webhook (signed: Stripe-Signature)', security: [], docs: stripeWebhookDocs } }, async (request) => {
    const settings = ctx.config.stripe;
    const stripe = stripeClient(settings);
    if (!stripe || !settings.webhookSecret) {
      throw new AppError('NOT_IMPLEMENTED', 'Stripe webhooks are not configured on this server: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (docs/billing.md)');
    }
    const signature = request.headers['stripe-signature'];
    if (typeof signature !== 'string' || signature === '') throw new AppError('BAD_REQUEST', 'Missing Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(rawBody(request), signature, settings.webhookSecret, settings.webhookToleranceS);
    } catch (err) {
      throw new AppError('BAD_REQUEST', `Invalid Stripe signature: ${err instanceof Error ? err.message.split('\n')[0] : 'verification failed'}`);
    }
    let outcome;
    try {
      outcome = await handleStripeEvent(ctx.db, stripe, settings, event);
    } catch (err) {
      // Not recorded: the 500 makes Stripe deliver the event again later.
      request.log.error({ err, eventId: event.id, type: event.type }, 'stripe webhook: handling failed; Stripe will retry');
      throw new AppError('INTERNAL_ERROR', `Event ${event.id} could not be handled; Stripe will retry it`);
    }
    if (outcome.unmappedPriceId) {
      request.log.warn({ eventId: event.id, type: event.type, ...outcome }, 'stripe webhook: the price is not in STRIPE_PRICE_PLANS; tier and minutes left unchanged');
    } else {
      request.log.info({ eventId: event.id, type: event.type, ...outcome }, 'stripe webhook');
    }
    return { received: true, result: outcome.result };
  });

  await vapiWebhook(app, ctx, rawBody);
}
