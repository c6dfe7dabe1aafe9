import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { billingAccounts, billingMeterOutbox, billingUsage } from '../db/schema.js';

/**
 * The durable side of usage reporting to Stripe Billing Meters (docs/billing.md "Usage"). Usage is
 * a monotonic total per organization (`billing_usage.recorded_ms`, grown by `recordUsage`); a claim
 * moves whole meter units of it into `billing_meter_outbox` and advances `reported_ms` in the same
 * transaction, so nothing is claimed twice by two processes or after a restart. A claimed event's
 * identifier is derived from the organization and the range it covers, so sending it again after
 * a crash (before `sent_at` was written) is deduplicated by Stripe.
 */

/** A meter event waiting to be sent, as stored in `billing_meter_outbox`. */
export type MeterOutboxRow = typeof billingMeterOutbox.$inferSelect;

/** Settings of {@link claimMeterEvents}. */
export interface MeterClaimOptions {
  /** The meter's `event_name`. */
  eventName: string;
  /** One meter unit in ms (60 000 for minutes); only whole units are claimed, the rest waits. */
  unitMs: number;
  /** Organizations claimed per call (default 100). */
  limit?: number;
}

/** The identifier of the meter event covering `[fromMs, toMs)` of an organization's recorded usage. */
export function meterEventIdentifier(organizationId: string, fromMs: number, toMs: number): string {
  return `tolk-${organizationId}-${fromMs}-${toMs}`;
}

/**
 * Claims the whole meter units recorded and not yet claimed, for up to `limit` organizations that
 * have a Stripe customer: one outbox row each, and `reported_ms` advanced, in one transaction. Rows
 * another process is claiming are skipped (`FOR UPDATE SKIP LOCKED`), never waited for.
 * @returns the outbox rows created.
 */
export async function claimMeterEvents(db: Database, o: MeterClaimOptions): Promise<MeterOutboxRow[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ organizationId: billingUsage.organizationId, recordedMs: billingUsage.recordedMs, reportedMs: billingUsage.reportedMs, customerId: billingAccounts.stripeCustomerId })
      .from(billingUsage)
      .innerJoin(billingAccounts, eq(billingAccounts.organizationId, billingUsage.organizationId))
      .where(sql`${billingUsage.recordedMs} - ${billingUsage.reportedMs} >= ${o.unitMs}`)
      .orderBy(asc(billingUsage.organizationId))
      .limit(o.limit ?? 100)
      .for('update', { of: billingUsage, skipLocked: true });
    const created: MeterOutboxRow[] = [];
    for (const row of due) {
      const units = Math.floor((row.recordedMs - row.reportedMs) / o.unitMs);
      const toMs = row.reportedMs + units * o.unitMs;
      const identifier = meterEventIdentifier(row.organizationId, row.reportedMs, toMs);
      const [inserted] = await tx.insert(billingMeterOutbox).values({
        identifier, organizationId: row.organizationId, stripeCustomerId: row.customerId, eventName: o.eventName,
        value: units, fromMs: row.reportedMs, toMs,
      }).onConflictDoNothing().returning();
      await tx.update(billingUsage).set({ reportedMs: toMs, updatedAt: sql`now()` }).where(eq(billingUsage.organizationId, row.organizationId));
      if (inserted) created.push(inserted);
    }
    return created;
  });
}

/**
 * Takes up to `limit` unsent outbox rows whose lease is free (never sent, or a sender's lease ran
 * out: it crashed or failed), leasing them for `leaseMs`, oldest first.
 */
export async function leasePendingMeterEvents(db: Database, leaseMs: number, limit = 100): Promise<MeterOutboxRow[]> {
  return db.transaction(async (tx) => {
    const free = await tx
      .select({ identifier: billingMeterOutbox.identifier })
      .from(billingMeterOutbox)
      .where(and(isNull(billingMeterOutbox.sentAt), or(isNull(billingMeterOutbox.leaseUntil), lt(billingMeterOutbox.leaseUntil, sql`now()`))))
      .orderBy(asc(billingMeterOutbox.occurredAt), asc(billingMeterOutbox.identifier))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (free.length === 0) return [];
    return tx.update(billingMeterOutbox)
      .set({ leaseUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval`, attempts: sql`${billingMeterOutbox.attempts} + 1` })
      .where(inArray(billingMeterOutbox.identifier, free.map((f) => f.identifier)))
      .returning();
  });
}

/** Marks an outbox row accepted by Stripe. */
export async function markMeterEventSent(db: Database, identifier: string): Promise<void> {
  await db.update(billingMeterOutbox).set({ sentAt: sql`now()`, leaseUntil: null, lastError: null }).where(eq(billingMeterOutbox.identifier, identifier));
}

/** Records a failed send; the row is retried once `retryInMs` has passed. */
export async function markMeterEventFailed(db: Database, identifier: string, error: string, retryInMs: number): Promise<void> {
  await db.update(billingMeterOutbox)
    .set({ lastError: error.slice(0, 500), leaseUntil: sql`now() + ${`${retryInMs} milliseconds`}::interval` })
    .where(eq(billingMeterOutbox.identifier, identifier));
}

/** An organization's usage totals in ms: recorded, claimed for Stripe, and accepted by Stripe. */
export async function meterTotals(db: Database, organizationId: string): Promise<{ recordedMs: number; reportedMs: number; sentMs: number }> {
  const [usage] = await db.select().from(billingUsage).where(eq(billingUsage.organizationId, organizationId)).limit(1);
  const [sent] = await db
    .select({ ms: sql<string>`coalesce(sum(${billingMeterOutbox.toMs} - ${billingMeterOutbox.fromMs}), 0)` })
    .from(billingMeterOutbox)
    .where(and(eq(billingMeterOutbox.organizationId, organizationId), sql`${billingMeterOutbox.sentAt} is not null`));
  return { recordedMs: usage?.recordedMs ?? 0, reportedMs: usage?.reportedMs ?? 0, sentMs: Number(sent?.ms ?? 0) };
}
