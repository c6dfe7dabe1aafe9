import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations, sessions } from './schema-core.js';

/**
 * The Stripe side of an organization (docs/billing.md): its customer and subscription, the price
 * that sets its tier and minutes (`STRIPE_PRICE_PLANS`), and its payment standing. Written by the
 * Stripe webhook (spec 000 "Webhooks (Inbound)"); read by admission (402 once past due beyond the
 * grace period) and by `GET /api/billing/invoices`.
 */
export const billingAccounts = pgTable('billing_accounts', {
  organizationId: text('organization_id').primaryKey().references(() => organizations.id, { onDelete: 'cascade' }),
  stripeCustomerId: text('stripe_customer_id').notNull(),
  stripeSubscriptionId: text('stripe_subscription_id'),
  stripePriceId: text('stripe_price_id'),
  /** Stripe's subscription status as last seen (`active`, `past_due`, `canceled`…). */
  subscriptionStatus: text('subscription_status'),
  /** When the first unpaid invoice failed; null while paid up. */
  pastDueSince: timestamp('past_due_since', { withTimezone: true }),
  /** From this instant new streams are refused with 402 (past due + grace); null while paid up. */
  streamsRefusedAfter: timestamp('streams_refused_after', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('billing_accounts_customer_idx').on(t.stripeCustomerId)]);

/**
 * Live translated audio per organization and the meter cursor (docs/billing.md "Usage"):
 * `recorded_ms` grows with every charge (`recordUsage`, same statement order as the balance);
 * `reported_ms` is how much of it has been claimed into {@link billingMeterOutbox}. Both only grow,
 * so `recorded_ms − reported_ms` is exactly what Stripe has not been sent yet.
 */
export const billingUsage = pgTable('billing_usage', {
  organizationId: text('organization_id').primaryKey().references(() => organizations.id, { onDelete: 'cascade' }),
  recordedMs: bigint('recorded_ms', { mode: 'number' }).notNull().default(0),
  reportedMs: bigint('reported_ms', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Audio every stream of an organization received, per UTC day (docs/platform.md "Operations"): live
 * streams (charged to the balance) and test-mode streams (never charged) apart. Added to with each
 * charge interval of a stream (`recordStreamDay`), sessions or not, so the console's Usage page counts
 * every minute, including streams opened with a key and no platform session.
 */
export const usageDays = pgTable('usage_days', {
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  /** The UTC day the audio was counted on. */
  day: date('day', { mode: 'string' }).notNull(),
  liveMs: bigint('live_ms', { mode: 'number' }).notNull().default(0),
  testMs: bigint('test_ms', { mode: 'number' }).notNull().default(0),
}, (t) => [primaryKey({ columns: [t.organizationId, t.day] })]);

/**
 * Meter events claimed for Stripe (POST /v1/billing/meter_events), written in the transaction that
 * advances `billing_usage.reported_ms`. `identifier` is derived from the organization and the claimed
 * range (`tolk-<org>-<fromMs>-<toMs>`), so a resend after a crash carries the same identifier and
 * Stripe counts it once. `sent_at` is set once Stripe accepted it.
 */
export const billingMeterOutbox = pgTable('billing_meter_outbox', {
  identifier: text('identifier').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  stripeCustomerId: text('stripe_customer_id').notNull(),
  eventName: text('event_name').notNull(),
  /** Whole meter units (minutes or seconds, `STRIPE_METER_UNIT`). */
  value: integer('value').notNull(),
  fromMs: bigint('from_ms', { mode: 'number' }).notNull(),
  toMs: bigint('to_ms', { mode: 'number' }).notNull(),
  /** The event's time, sent as `timestamp` (claim time). */
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  /** A sender holds the row until then; another process may take it over after. */
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  sentAt: timestamp('sent_at', { withTimezone: true }),
}, (t) => [index('billing_meter_outbox_pending_idx').on(t.sentAt, t.occurredAt)]);

/** Stripe webhook events already handled (by `event.id`): a redelivery is acknowledged and skipped. */
export const stripeWebhookEvents = pgTable('stripe_webhook_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Outbound phone calls of a session (spec 000 `POST /api/sessions/:id/phone/start`), by the
 * provider's call id; status and end reason follow the provider's webhooks (docs/phone.md).
 */
export const phoneCalls = pgTable('phone_calls', {
  id: text('id').primaryKey(),
  sessionId: text('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  organizationId: text('organization_id').notNull(),
  provider: text('provider').notNull(),
  phoneNumber: text('phone_number').notNull(),
  assistantId: text('assistant_id'),
  /** `initiated`, then the provider's (`queued`, `ringing`, `in-progress`, `forwarding`, `ended`). */
  status: text('status').notNull(),
  endedReason: text('ended_reason'),
  createdByKeyId: text('created_by_key_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  endedAt: timestamp('ended_at', { withTimezone: true }),
}, (t) => [index('phone_calls_session_idx').on(t.sessionId)]);
