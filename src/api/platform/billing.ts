import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { stripeClient } from '../../integrations/stripe.js';
import { listOrganizationInvoices } from './stripe-events.js';
import { principalOf, requireRole } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorBody, errorResponses } from './schemas.js';

/** Response of spec 000 `GET /api/billing/invoices`. */
export const invoicesResponse = z.object({
  invoices: z.array(z.object({
    id: z.string(),
    number: z.string().nullable(),
    status: z.string().nullable(),
    amountPaid: z.number().describe('In currency units, not cents (49.00 USD is 49)'),
    currency: z.string().describe('ISO 4217, upper case'),
    createdAt: z.string().describe('ISO 8601'),
    hostedInvoiceUrl: z.string().nullable(),
    invoicePdf: z.string().nullable(),
  })).max(24),
});

/** The 501 message when Stripe is not configured (docs/billing.md "Without Stripe"). */
export const BILLING_NOT_CONFIGURED = 'Billing is not configured on this server: set STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_PLANS; docs/billing.md). Usage is still counted.';

/**
 * Spec 000 "Billing": `GET /billing/invoices` (under `/api`), owner or admin (403 for members): up
 * to 24 recent invoices of the organization's Stripe customer, newest first (`[]` without a
 * customer). 501 `NOT_IMPLEMENTED` naming the settings when `STRIPE_SECRET_KEY` is unset; a Stripe
 * failure is 500 `INTERNAL_ERROR` (logged).
 */
export const billingRoutes: PlatformRoutePlugin = async (app, ctx) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/billing/invoices', {
    preHandler: requireRole('admin'),
    schema: { tags: ['billing'], summary: 'Up to 24 recent invoices of the organization (owner/admin)', response: { 200: invoicesResponse, ...errorResponses, 501: errorBody } },
  }, async (request) => {
    const stripe = stripeClient(ctx.config.stripe);
    if (!stripe) throw new AppError('NOT_IMPLEMENTED', BILLING_NOT_CONFIGURED);
    const organizationId = principalOf(request).organizationId;
    try {
      return { invoices: await listOrganizationInvoices(ctx.db, stripe, organizationId) };
    } catch (err) {
      // A Stripe error carries Stripe's own status (404 for a customer deleted in Stripe…): never the client's.
      request.log.error({ err, organizationId }, 'stripe: listing invoices failed');
      throw new AppError('INTERNAL_ERROR', 'Stripe could not list the invoices; try again later (the server log has the details)');
    }
  });
};
