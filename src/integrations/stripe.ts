import Stripe from 'stripe';
import type { StripeSettings } from '../config.js';

/** How long one Stripe API call may take, in ms, before it is retried or fails. */
const STRIPE_TIMEOUT_MS = 10_000;
/** Network failures and 409/429/5xx answers are retried this often by the client (same Idempotency-Key). */
const STRIPE_NETWORK_RETRIES = 2;

/** Clients by settings object: one per process and configuration. */
const clients = new WeakMap<StripeSettings, Stripe>();

/**
 * The official Stripe client for `STRIPE_SECRET_KEY`, pointed at `STRIPE_API_BASE` when set (a
 * stand-in such as stripe-mock), or undefined when billing is not configured. Requests carry the
 * client's pinned `Stripe-Version`, a 10 s timeout and two retries of network errors.
 */
export function stripeClient(settings: StripeSettings): Stripe | undefined {
  if (!settings.secretKey) return undefined;
  let client = clients.get(settings);
  if (!client) {
    const base = settings.apiBase ? new URL(settings.apiBase) : undefined;
    client = new Stripe(settings.secretKey, {
      timeout: STRIPE_TIMEOUT_MS,
      maxNetworkRetries: STRIPE_NETWORK_RETRIES,
      ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' } : {}),
    });
    clients.set(settings, client);
  }
  return client;
}

/** Most invoices `GET /api/billing/invoices` lists (spec 000: "up to 24"). */
export const MAX_INVOICES = 24;

/**
 * A customer's most recent invoices, newest first, at most {@link MAX_INVOICES}:
 * `GET /v1/invoices?customer=…&limit=24`.
 * @throws {Stripe.errors.StripeError} when Stripe fails.
 */
export async function fetchRecentInvoices(stripe: Stripe, customerId: string): Promise<Stripe.Invoice[]> {
  const page = await stripe.invoices.list({ customer: customerId, limit: MAX_INVOICES });
  return page.data.slice(0, MAX_INVOICES);
}

/** The id of an expandable Stripe field (`"cus_…"` or `{ id: "cus_…" }`), or null. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

/** A subscription's customer, id, first price and status. */
export function subscriptionFacts(subscription: Stripe.Subscription): { customerId: string; subscriptionId: string; priceId: string | null; status: string } {
  return {
    customerId: idOf(subscription.customer) ?? '',
    subscriptionId: subscription.id,
    priceId: subscription.items.data[0]?.price.id ?? null,
    status: subscription.status,
  };
}

/** A meter event to send (a row of the outbox). */
export interface MeterEventToSend {
  eventName: string;
  stripeCustomerId: string;
  /** Whole meter units. */
  value: number;
  identifier: string;
  occurredAt: Date;
}

/**
 * `POST /v1/billing/meter_events` with `event_name`, `payload[stripe_customer_id]`,
 * `payload[value]`, `identifier` and `timestamp` (Unix s), and the identifier as `Idempotency-Key`.
 * @throws {Stripe.errors.StripeError} when Stripe refuses or cannot be reached (after retries).
 */
export async function sendMeterEvent(stripe: Stripe, e: MeterEventToSend): Promise<void> {
  await stripe.billing.meterEvents.create({
    event_name: e.eventName,
    payload: { stripe_customer_id: e.stripeCustomerId, value: String(e.value) },
    identifier: e.identifier,
    timestamp: Math.floor(e.occurredAt.getTime() / 1000),
  }, { idempotencyKey: e.identifier });
}
