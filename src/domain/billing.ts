import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { billingAccounts, billingUsage, organizations, stripeWebhookEvents } from '../db/schema.js';

/**
 * The organization side of Stripe billing (docs/billing.md): which customer and subscription an
 * organization has, what its price gives it (tier, minutes), its payment standing, and which webhook
 * events were already handled. Stripe's API is called by `src/integrations/stripe*.ts`, never here.
 */

/** A transaction or the database: every effect below runs inside the webhook event's transaction. */
export type BillingTx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** What a Stripe price gives an organization (`STRIPE_PRICE_PLANS`, docs/billing.md). */
export interface PlanGrant {
  tier: number;
  /** Minutes per billing period; null is unlimited. */
  minutes: number | null;
}

/** A subscription as the webhook effects need it. */
export interface SubscriptionFacts {
  customerId: string;
  subscriptionId: string | null;
  /** The first item's price; null when none. */
  priceId: string | null;
  /** Stripe's subscription status. */
  status: string | null;
}

/**
 * Runs `apply` for a Stripe event exactly once (spec 000 "Webhooks (Inbound)"): the event id is
 * inserted into `stripe_webhook_events` in the same transaction as its effects, so a redelivery —
 * even a concurrent one, which waits on the id's unique index — finds it and does nothing, and a
 * failed effect rolls the id back so Stripe's retry runs it again.
 * @returns `handled`, or `duplicate` when the id was seen before.
 * @throws whatever `apply` throws (nothing is recorded then).
 */
export async function handleStripeEventOnce(db: Database, event: { id: string; type: string }, apply: (tx: BillingTx) => Promise<void>): Promise<'handled' | 'duplicate'> {
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(stripeWebhookEvents).values({ id: event.id, type: event.type }).onConflictDoNothing().returning({ id: stripeWebhookEvents.id });
    if (inserted.length === 0) return 'duplicate';
    await apply(tx);
    return 'handled';
  });
}

/** The organization whose Stripe customer is `customerId`, or undefined. */
export async function organizationOfCustomer(tx: BillingTx | Database, customerId: string): Promise<{ organizationId: string; priceId: string | null } | undefined> {
  const [row] = await tx
    .select({ organizationId: billingAccounts.organizationId, priceId: billingAccounts.stripePriceId })
    .from(billingAccounts)
    .where(eq(billingAccounts.stripeCustomerId, customerId))
    .limit(1);
  return row;
}

/** The Stripe customer of an organization, or undefined when it has none. */
export async function customerOfOrganization(db: Database, organizationId: string): Promise<string | undefined> {
  const [row] = await db.select({ customerId: billingAccounts.stripeCustomerId }).from(billingAccounts).where(eq(billingAccounts.organizationId, organizationId)).limit(1);
  return row?.customerId;
}

/** Sets an organization's tier and, when `withMinutes`, its balance from a plan (minutes → ms). */
async function applyPlan(tx: BillingTx, organizationId: string, plan: PlanGrant, withMinutes: boolean): Promise<void> {
  const minutesBalanceMs = plan.minutes === null ? null : Math.round(plan.minutes * 60_000);
  await tx.update(organizations).set(withMinutes ? { tier: plan.tier, minutesBalanceMs } : { tier: plan.tier }).where(eq(organizations.id, organizationId));
}

/**
 * `checkout.session.completed`: the organization gets its customer and subscription, and the plan of
 * its price (tier and minutes). Metering starts now: usage recorded before the subscription is not
 * reported to Stripe (`billing_usage.reported_ms` is moved up to `recorded_ms`).
 * @returns false when the organization does not exist (nothing changed).
 */
export async function linkCheckout(tx: BillingTx, organizationId: string, facts: SubscriptionFacts, plan: PlanGrant | undefined): Promise<boolean> {
  const [org] = await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId)).limit(1);
  if (!org) return false;
  const values = {
    stripeCustomerId: facts.customerId, stripeSubscriptionId: facts.subscriptionId, stripePriceId: facts.priceId,
    subscriptionStatus: facts.status, pastDueSince: null, streamsRefusedAfter: null, updatedAt: new Date(),
  };
  await tx.insert(billingAccounts).values({ organizationId, ...values }).onConflictDoUpdate({ target: billingAccounts.organizationId, set: values });
  await tx.insert(billingUsage).values({ organizationId }).onConflictDoUpdate({
    target: billingUsage.organizationId,
    set: { reportedMs: sql`greatest(${billingUsage.reportedMs}, ${billingUsage.recordedMs})`, updatedAt: sql`now()` },
  });
  if (plan) await applyPlan(tx, organizationId, plan, true);
  return true;
}

/**
 * `customer.subscription.updated`: records the subscription's price and status; the tier follows the
 * price's plan (minutes are renewed by the next paid invoice, not here).
 * @returns the organization id, or undefined when no organization has the customer.
 */
export async function updateSubscription(tx: BillingTx, facts: SubscriptionFacts, plan: PlanGrant | undefined): Promise<string | undefined> {
  const account = await organizationOfCustomer(tx, facts.customerId);
  if (!account) return undefined;
  await tx.update(billingAccounts)
    .set({ stripeSubscriptionId: facts.subscriptionId, stripePriceId: facts.priceId, subscriptionStatus: facts.status, updatedAt: new Date() })
    .where(eq(billingAccounts.organizationId, account.organizationId));
  if (plan) await applyPlan(tx, account.organizationId, plan, false);
  return account.organizationId;
}

/**
 * `customer.subscription.deleted`: the organization falls to tier 0 (transcription only) and keeps
 * its customer (invoices stay listed); its payment standing is cleared.
 * @returns the organization id, or undefined when no organization has the customer.
 */
export async function endSubscription(tx: BillingTx, customerId: string): Promise<string | undefined> {
  const account = await organizationOfCustomer(tx, customerId);
  if (!account) return undefined;
  await tx.update(billingAccounts)
    .set({ stripeSubscriptionId: null, subscriptionStatus: 'canceled', pastDueSince: null, streamsRefusedAfter: null, updatedAt: new Date() })
    .where(eq(billingAccounts.organizationId, account.organizationId));
  await tx.update(organizations).set({ tier: 0 }).where(eq(organizations.id, account.organizationId));
  return account.organizationId;
}

/**
 * `invoice.payment_succeeded` / `invoice.paid`: the period's minutes are renewed from the plan of the
 * organization's price (the balance is set, not added to, so both events of one invoice agree) and
 * any past-due standing is cleared.
 * @param planOf - the plan of a price id (`STRIPE_PRICE_PLANS`).
 * @returns the organization id, or undefined when no organization has the customer.
 */
export async function renewPeriod(tx: BillingTx, customerId: string, planOf: (priceId: string) => PlanGrant | undefined): Promise<string | undefined> {
  const account = await organizationOfCustomer(tx, customerId);
  if (!account) return undefined;
  await tx.update(billingAccounts)
    .set({ pastDueSince: null, streamsRefusedAfter: null, subscriptionStatus: 'active', updatedAt: new Date() })
    .where(eq(billingAccounts.organizationId, account.organizationId));
  const plan = account.priceId ? planOf(account.priceId) : undefined;
  if (plan) await applyPlan(tx, account.organizationId, plan, true);
  return account.organizationId;
}

/**
 * `invoice.payment_failed`: the organization is past due from its first failure; new streams are
 * refused with 402 from `failedAt + graceMs` on (`checkStreamAdmission`). A later failure does not
 * move either instant.
 * @returns the organization id, or undefined when no organization has the customer.
 */
export async function markPastDue(tx: BillingTx, customerId: string, failedAt: Date, graceMs: number): Promise<string | undefined> {
  const account = await organizationOfCustomer(tx, customerId);
  if (!account) return undefined;
  await tx.update(billingAccounts)
    .set({
      subscriptionStatus: 'past_due',
      pastDueSince: sql`coalesce(${billingAccounts.pastDueSince}, ${failedAt.toISOString()}::timestamptz)`,
      streamsRefusedAfter: sql`coalesce(${billingAccounts.streamsRefusedAfter}, ${new Date(failedAt.getTime() + graceMs).toISOString()}::timestamptz)`,
      updatedAt: new Date(),
    })
    .where(eq(billingAccounts.organizationId, account.organizationId));
  return account.organizationId;
}

/** Currencies without minor units (Stripe "zero-decimal currencies"): amounts are whole units. */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** Currencies with three decimals (Stripe "three-decimal currencies"). */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/**
 * An amount in Stripe's smallest currency unit as currency units (spec 000 `amountPaid`: 4900 USD
 * cents → 49), honouring zero- and three-decimal currencies.
 */
export function toCurrencyUnits(amountMinor: number, currency: string): number {
  const c = currency.toLowerCase();
  const decimals = ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
  return Number((amountMinor / 10 ** decimals).toFixed(decimals));
}

/** An invoice of spec 000 `GET /api/billing/invoices`, field for field. */
export interface InvoiceSummary {
  id: string;
  number: string | null;
  status: string | null;
  /** In currency units (not cents). */
  amountPaid: number;
  /** ISO 4217, upper case (`USD`). */
  currency: string;
  /** ISO 8601. */
  createdAt: string;
  hostedInvoiceUrl: string | null;
  invoicePdf: string | null;
}

/** The fields of a Stripe invoice object that {@link invoiceSummary} reads. */
export interface StripeInvoiceFields {
  id?: string | undefined;
  number: string | null;
  status: string | null;
  amount_paid: number;
  currency: string;
  /** Unix seconds. */
  created: number;
  hosted_invoice_url?: string | null | undefined;
  invoice_pdf?: string | null | undefined;
}

/** Maps a Stripe invoice to spec 000's invoice shape. */
export function invoiceSummary(invoice: StripeInvoiceFields): InvoiceSummary {
  return {
    id: invoice.id ?? '',
    number: invoice.number,
    status: invoice.status,
    amountPaid: toCurrencyUnits(invoice.amount_paid, invoice.currency),
    currency: invoice.currency.toUpperCase(),
    createdAt: new Date(invoice.created * 1000).toISOString(),
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
  };
}
