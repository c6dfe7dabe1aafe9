import type Stripe from 'stripe';
import type { StripePlan, StripeSettings } from '../../config.js';
import type { Database } from '../../db/client.js';
import {
  customerOfOrganization, endSubscription, handleStripeEventOnce, invoiceSummary, linkCheckout, markPastDue, renewPeriod,
  updateSubscription, type InvoiceSummary, type SubscriptionFacts,
} from '../../domain/billing.js';
import { fetchRecentInvoices, idOf, subscriptionFacts } from '../../integrations/stripe.js';

/**
 * The organization's most recent invoices in spec 000's shape (`GET /api/billing/invoices`); an
 * organization without a Stripe customer has none (no call is made).
 * @throws {Stripe.errors.StripeError} when Stripe fails.
 */
export async function listOrganizationInvoices(db: Database, stripe: Stripe, organizationId: string): Promise<InvoiceSummary[]> {
  const customer = await customerOfOrganization(db, organizationId);
  if (!customer) return [];
  return (await fetchRecentInvoices(stripe, customer)).map((invoice) => invoiceSummary(invoice));
}

/** The outcome of one delivered webhook event, for the log and the response. */
export interface StripeEventOutcome {
  /** `handled`, `duplicate` (seen before), or `ignored` (a type spec 000 does not list). */
  result: 'handled' | 'duplicate' | 'ignored';
  /** The organization the event changed, when one did. */
  organizationId?: string | undefined;
  /** A price the event named that `STRIPE_PRICE_PLANS` does not map (tier and minutes were left as they were). */
  unmappedPriceId?: string | undefined;
}

/** The event types acted on (spec 000 "Webhooks (Inbound)", plus `invoice.paid`, Stripe's newer twin of `invoice.payment_succeeded`). */
export const HANDLED_STRIPE_EVENTS = [
  'checkout.session.completed', 'invoice.payment_succeeded', 'invoice.paid', 'invoice.payment_failed',
  'customer.subscription.updated', 'customer.subscription.deleted',
] as const;

/**
 * Acts on a verified Stripe event once (docs/billing.md "Webhook"). A checkout's subscription is read
 * from Stripe (`GET /v1/subscriptions/:id`) before the transaction, for its price.
 * @throws {Error} when Stripe or the database fails: the event is not recorded, Stripe retries it.
 */
export async function handleStripeEvent(db: Database, stripe: Stripe, settings: StripeSettings, event: Stripe.Event, now = new Date()): Promise<StripeEventOutcome> {
  if (!(HANDLED_STRIPE_EVENTS as readonly string[]).includes(event.type)) return { result: 'ignored' };
  let unmappedPriceId: string | undefined;
  const planOf = (priceId: string): StripePlan | undefined => {
    const plan = settings.plans[priceId];
    if (!plan) unmappedPriceId = priceId;
    return plan;
  };
  let organizationId: string | undefined;
  let checkoutFacts: SubscriptionFacts | undefined;
  if (event.type === 'checkout.session.completed') {
    const session = event.data.object;
    const subscriptionId = idOf(session.subscription);
    checkoutFacts = subscriptionId
      ? { ...subscriptionFacts(await stripe.subscriptions.retrieve(subscriptionId)), customerId: idOf(session.customer) ?? '' }
      : { customerId: idOf(session.customer) ?? '', subscriptionId: null, priceId: null, status: null };
  }
  const result = await handleStripeEventOnce(db, event, async (tx) => {
    switch (event.type) {
      case 'checkout.session.completed': {
        const session = event.data.object;
        const orgId = session.client_reference_id ?? session.metadata?.organization_id;
        if (!orgId || !checkoutFacts?.customerId) return;
        const plan = checkoutFacts.priceId ? planOf(checkoutFacts.priceId) : undefined;
        if (await linkCheckout(tx, orgId, checkoutFacts, plan)) organizationId = orgId;
        return;
      }
      case 'customer.subscription.updated': {
        const facts = subscriptionFacts(event.data.object);
        organizationId = await updateSubscription(tx, facts, facts.priceId ? planOf(facts.priceId) : undefined);
        return;
      }
      case 'customer.subscription.deleted':
        organizationId = await endSubscription(tx, idOf(event.data.object.customer) ?? '');
        return;
      case 'invoice.payment_succeeded':
      case 'invoice.paid':
        organizationId = await renewPeriod(tx, idOf(event.data.object.customer) ?? '', planOf);
        return;
      case 'invoice.payment_failed':
        organizationId = await markPastDue(tx, idOf(event.data.object.customer) ?? '', now, settings.pastDueGraceMs);
        return;
      default:
        return;
    }
  });
  return { result, organizationId, unmappedPriceId };
}
