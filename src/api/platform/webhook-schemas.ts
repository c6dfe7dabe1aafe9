import { z } from 'zod';
import type { RouteDocs } from '../openapi.js';
import { errorBody } from './schemas.js';

/**
 * `POST /api/webhooks/stripe` for `/api/openapi.json` (spec 000 "Webhooks (Inbound)", docs/billing.md
 * "Webhook"): Stripe's event, verified on its raw bytes with `Stripe-Signature`.
 */
export const stripeWebhookDocs: RouteDocs = {
  body: z.looseObject({
    id: z.string().describe('evt_…: each id is acted on once'),
    object: z.literal('event'),
    type: z.string().describe('checkout.session.completed, customer.subscription.*, invoice.* are acted on; others are ignored'),
    data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
  }).describe('A Stripe Event'),
  headers: z.object({ 'stripe-signature': z.string().describe('t=<unix s>,v1=<HMAC-SHA256 with STRIPE_WEBHOOK_SECRET>') }),
  response: {
    200: z.object({ received: z.literal(true), result: z.enum(['handled', 'duplicate', 'ignored']) }),
    400: errorBody.describe('BAD_REQUEST: missing or invalid Stripe-Signature (or outside STRIPE_WEBHOOK_TOLERANCE_S)'),
    500: errorBody.describe('INTERNAL_ERROR: the event could not be handled; Stripe delivers it again'),
    501: errorBody.describe('NOT_IMPLEMENTED: STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET not set'),
  },
};

/** `POST /api/webhooks/vapi` for `/api/openapi.json` (docs/phone.md): Vapi's server messages. */
export const vapiWebhookDocs: RouteDocs = {
  body: z.looseObject({
    message: z.looseObject({
      type: z.string().describe('status-update, end-of-call-report, transcript, hang… (others are ignored)'),
      call: z.looseObject({ id: z.string() }).optional(),
      status: z.string().optional(),
      endedReason: z.string().optional(),
      role: z.string().optional(),
      transcriptType: z.string().optional(),
      transcript: z.string().optional(),
    }),
  }).describe('Vapi\'s {"message": {...}} (a bare message is accepted too)'),
  headers: z.object({ 'x-vapi-secret': z.string().describe('Must equal VAPI_WEBHOOK_SECRET') }),
  response: {
    200: z.object({ received: z.literal(true), result: z.enum(['updated', 'ignored', 'unknown-call']) }),
    400: errorBody.describe('BAD_REQUEST: the body is not a JSON object'),
    401: errorBody.describe('UNAUTHORIZED: missing or wrong x-vapi-secret'),
    501: errorBody.describe('NOT_IMPLEMENTED: VAPI_WEBHOOK_SECRET not set'),
  },
};
