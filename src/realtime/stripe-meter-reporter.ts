import type Stripe from 'stripe';
import type { StripeSettings } from '../config.js';
import type { Database } from '../db/client.js';
import { claimMeterEvents, leasePendingMeterEvents, markMeterEventFailed, markMeterEventSent, type MeterOutboxRow } from '../domain/billing-meter.js';
import { sendMeterEvent } from '../integrations/stripe.js';

/** How long a sender holds an outbox row before another process may send it, in ms. */
const SEND_LEASE_MS = 60_000;
/** Delay before a failed event is tried again, in ms (doubling per attempt, capped). */
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;
/** Claim rounds per run, so a run ends even while streams keep recording. */
const MAX_CLAIM_ROUNDS = 50;

/** What one {@link StripeMeterReporter.runOnce} did. */
export interface MeterRunResult {
  /** Outbox rows created by this run's claims. */
  claimed: number;
  /** Events Stripe accepted. */
  sent: number;
  /** Events that failed and wait for a retry. */
  failed: number;
}

/** Logs of the reporter (a pino logger fits). */
export interface MeterLog {
  warn(obj: object, msg: string): void;
}

/**
 * Reports every organization's translated minutes to Stripe Billing Meters (docs/billing.md
 * "Usage"): each run claims whole units of recorded usage into the outbox (domain/billing-meter.ts),
 * then sends every unsent event as `POST /v1/billing/meter_events` with `event_name`,
 * `payload[stripe_customer_id]`, `payload[value]`, the deterministic `identifier`, the claim's
 * `timestamp`, and the identifier as `Idempotency-Key`. Failed events are retried with backoff on
 * later runs, by this or any other process. Runs never overlap within a process.
 */
export class StripeMeterReporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<MeterRunResult> | undefined;

  constructor(private readonly db: Database, private readonly stripe: Stripe, private readonly settings: StripeSettings, private readonly log?: MeterLog) {}

  /** Claims and sends once; resolves when done. Concurrent calls share the run in flight. */
  runOnce(): Promise<MeterRunResult> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs every `STRIPE_METER_INTERVAL_S` until {@link stop}; errors are logged, never thrown. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.log?.warn({ err }, 'stripe meter: a run failed; it is retried at the next interval'));
    }, this.settings.meterIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<MeterRunResult> {
    const result: MeterRunResult = { claimed: 0, sent: 0, failed: 0 };
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const claimed = await claimMeterEvents(this.db, { eventName: this.settings.meterEventName, unitMs: this.settings.meterUnitMs });
      result.claimed += claimed.length;
      if (claimed.length === 0) break;
    }
    for (;;) {
      const batch = await leasePendingMeterEvents(this.db, SEND_LEASE_MS);
      if (batch.length === 0) break;
      for (const row of batch) {
        if (await this.send(row)) result.sent++;
        else result.failed++;
      }
    }
    return result;
  }

  /** Sends one event; true when Stripe accepted it. */
  private async send(row: MeterOutboxRow): Promise<boolean> {
    try {
      await sendMeterEvent(this.stripe, row);
      await markMeterEventSent(this.db, row.identifier);
      return true;
    } catch (err) {
      const retryInMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, row.attempts - 1));
      this.log?.warn({ err, identifier: row.identifier, attempts: row.attempts }, 'stripe meter: sending a meter event failed; it will be retried');
      await markMeterEventFailed(this.db, row.identifier, err instanceof Error ? err.message : String(err), retryInMs);
      return false;
    }
  }
}
