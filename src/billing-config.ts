/**
 * Billing and phone settings of spec 000 (docs/billing.md, docs/phone.md): Stripe and Vapi, read by
 * `loadConfig` from the environment.
 */
import { z } from 'zod';

/** A Stripe price's effect on an organization (`STRIPE_PRICE_PLANS`): its tier and minutes per period. */
export interface StripePlan {
  /** The organization's `tier` while subscribed to the price. */
  tier: number;
  /** Minutes granted at checkout and at every paid invoice; null is unlimited. */
  minutes: number | null;
}

/** Stripe settings (docs/billing.md "Settings"). */
export interface StripeSettings {
  /** `STRIPE_SECRET_KEY` (`sk_…` or a restricted `rk_…`); billing is off without it. */
  secretKey: string | undefined;
  /** `STRIPE_WEBHOOK_SECRET` (`whsec_…`): the endpoint's signing secret; the webhook answers 501 without it. */
  webhookSecret: string | undefined;
  /** `STRIPE_API_BASE`: another API server (a stand-in such as stripe-mock), e.g. `http://127.0.0.1:12111`. */
  apiBase: string | undefined;
  /** `STRIPE_PRICE_PLANS`: JSON `{"price_…":{"tier":1,"minutes":1000}}`. */
  plans: Record<string, StripePlan>;
  /** `STRIPE_METER_EVENT_NAME`: the meter's `event_name` (default `tolk_translated_minutes`). */
  meterEventName: string;
  /** One meter unit in ms (`STRIPE_METER_UNIT`: `minute` → 60 000, the default; `second` → 1 000). */
  meterUnitMs: number;
  /** How often usage is reported, in ms (`STRIPE_METER_INTERVAL_S`, default 60). */
  meterIntervalMs: number;
  /** After a failed payment, how long streams are still admitted, in ms (`STRIPE_PAST_DUE_GRACE_HOURS`, default 72). */
  pastDueGraceMs: number;
  /** Largest accepted age of a webhook signature, in s (`STRIPE_WEBHOOK_TOLERANCE_S`, default 300, Stripe's). */
  webhookToleranceS: number;
}

/** Vapi settings (docs/phone.md "Settings"). */
export interface VapiSettings {
  /** `VAPI_API_KEY`: the private API key (Bearer). */
  apiKey: string | undefined;
  /** `VAPI_ASSISTANT_ID`: the assistant that joins calls unless a request names another. */
  assistantId: string | undefined;
  /** `VAPI_PHONE_NUMBER_ID`: the Vapi phone number (imported from Twilio, Telnyx…) calls are placed from. */
  phoneNumberId: string | undefined;
  /** `VAPI_API_BASE` (default `https://api.vapi.ai`). */
  apiBase: string;
  /** `VAPI_WEBHOOK_SECRET`: the shared secret Vapi sends in `x-vapi-secret`; the webhook answers 501 without it. */
  webhookSecret: string | undefined;
}

const planSchema = z.record(z.string().min(1), z.object({
  tier: z.number().int().min(0),
  minutes: z.number().min(0).nullable(),
}).strict());

/**
 * Parses `STRIPE_PRICE_PLANS` (docs/billing.md): a JSON object from Stripe price id to
 * `{"tier": <int ≥ 0>, "minutes": <number ≥ 0 | null>}`.
 * @throws {Error} naming the problem when it is not such an object.
 */
export function parseStripePlans(json: string | undefined): Record<string, StripePlan> {
  if (json === undefined || json.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('invalid environment: STRIPE_PRICE_PLANS: not JSON');
  }
  const parsed = planSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid environment: STRIPE_PRICE_PLANS.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'} (expected {"price_…":{"tier":1,"minutes":1000}})`);
  }
  return parsed.data;
}
