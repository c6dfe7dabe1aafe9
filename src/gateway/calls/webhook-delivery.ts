import { Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client.js';
import type { EgressPolicy } from '../../common/egress-policy.js';
import { dueWebhookEvents, loadEventForDelivery, recordWebhookAttempt, SIGNATURE_HEADER, signWebhook, type AttemptOutcome, type WebhookEventCursor } from '../../domain/calls/webhooks.js';
import { postWebhook } from './webhook-post.js';

/** Longest retry delay, in ms: backoff doubles up to this. */
const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** BullMQ queue of webhook attempts. */
const QUEUE_NAME = 'tolk-call-webhooks';
/** Events read per page when recovering at start. */
const RECOVERY_PAGE_SIZE = 500;

/** Delivery settings (docs/calls.md "Webhooks", docs/security.md "Outbound requests"). */
export interface WebhookDeliverySettings {
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Destinations refused and allowed (`TOLK_WEBHOOK_ALLOW_HOSTS`). */
  egress: EgressPolicy;
  /** Attempts in flight at once in this process (`TOLK_WEBHOOK_CONCURRENCY`); the rest wait their turn. */
  concurrency: number;
}

/** Where attempts wait until due: BullMQ delayed jobs with Redis, timers in this process otherwise. Same semantics. */
interface AttemptQueue {
  schedule(eventId: string, attempt: number, delayMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Delay before attempt `attempt` (2, 3, …) after a failure: `base · 2^(attempt-2)`, capped at 1 h. */
export function retryDelayMs(retryBaseMs: number, attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, retryBaseMs * 2 ** Math.max(0, attempt - 2));
}

/**
 * `delayMs` spread by ±25 % at random, so events that failed together (an endpoint's outage) are
 * not retried together.
 */
export function jitteredDelayMs(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (0.75 + 0.5 * random()));
}

/** At most `limit` holders at once; the others wait in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

class TimerQueue implements AttemptQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(private readonly run: (eventId: string, attempt: number) => Promise<void>) {}
  async schedule(eventId: string, attempt: number, delayMs: number): Promise<void> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.run(eventId, attempt);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

class BullQueue implements AttemptQueue {
  private readonly queue: Queue;
  private readonly worker: Worker;
  /** BullMQ's own connections (a worker blocks on its own); closed with the queue. */
  private readonly connections: Redis[];
  constructor(redis: Redis, run: (eventId: string, attempt: number) => Promise<void>, log: FastifyBaseLogger) {
    this.connections = [redis.duplicate({ maxRetriesPerRequest: null }), redis.duplicate({ maxRetriesPerRequest: null })];
    const [queueConnection, workerConnection] = this.connections as [Redis, Redis];
    this.queue = new Queue(QUEUE_NAME, { connection: queueConnection });
    this.worker = new Worker(QUEUE_NAME, async (job) => {
      const data = job.data as { eventId: string; attempt: number };
      await run(data.eventId, data.attempt);
    }, { connection: workerConnection, concurrency: 8 });
    this.worker.on('error', (err) => log.warn({ err }, 'webhook queue worker error'));
  }
  async schedule(eventId: string, attempt: number, delayMs: number): Promise<void> {
    // One job per attempt: a second gateway scheduling the same attempt adds nothing (same jobId).
    await this.queue.add('deliver', { eventId, attempt }, { delay: delayMs, jobId: `${eventId}-${attempt}`, removeOnComplete: true, removeOnFail: 100 });
  }
  /**
   * Stops taking jobs and closes the connections. BullMQ's close waits for its connections, so with
   * Redis unreachable it would never return: it is given {@link QUEUE_CLOSE_TIMEOUT_MS}, then the
   * connections are dropped (jobs stay in Redis for the next process).
   */
  async close(): Promise<void> {
    if (this.connections.some((c) => c.status !== 'ready')) for (const c of this.connections) c.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUEUE_CLOSE_TIMEOUT_MS)));
    await Promise.race([Promise.allSettled([this.worker.close(true), this.queue.close()]), timeout]);
    clearTimeout(timer);
    for (const c of this.connections) c.disconnect();
  }
}

/** How long closing the BullMQ queue may take before its connections are dropped, in ms. */
const QUEUE_CLOSE_TIMEOUT_MS = 2000;

/**
 * Delivers stored webhook events (docs/architecture.md "Processes"): each
 * attempt POSTs the stored body with a fresh `Kallglot-Signature`; a 2xx within the timeout
 * delivers it, anything else retries after {@link retryDelayMs} until `maxAttempts`, then the
 * event is `failed`. Every attempt is recorded (`GET /v1/webhook_events`). At least once: an event
 * is stored before its first attempt, and events left pending by a stopped process are picked up
 * at start ({@link WebhookDelivery.recover}).
 */
export class WebhookDelivery {
  private readonly queue: AttemptQueue;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots: Semaphore;

  constructor(
    private readonly db: () => Database,
    private readonly settings: WebhookDeliverySettings,
    private readonly log: FastifyBaseLogger,
    redis?: Redis,
  ) {
    this.slots = new Semaphore(settings.concurrency);
    const run = (eventId: string, attempt: number): Promise<void> => this.track(this.slots.run(() => this.attempt(eventId, attempt)));
    this.queue = redis ? new BullQueue(redis, run, log) : new TimerQueue(run);
  }

  /** Sends a stored event now (its first attempt). */
  async enqueue(eventId: string): Promise<void> {
    await this.queue.schedule(eventId, 1, 0);
  }

  /**
   * Schedules every event a previous process left pending (on start), page by page; returns how
   * many. Attempts run {@link WebhookDeliverySettings.concurrency} at a time.
   */
  async recover(): Promise<number> {
    const before = new Date(Date.now() + MAX_RETRY_DELAY_MS);
    let scheduled = 0;
    let after: WebhookEventCursor | undefined;
    for (;;) {
      const page = await dueWebhookEvents(this.db(), before, RECOVERY_PAGE_SIZE, after);
      for (const event of page) {
        const delayMs = Math.max(0, (event.nextAttemptAt?.getTime() ?? 0) - Date.now());
        await this.queue.schedule(event.id, event.attempts + 1, delayMs);
      }
      scheduled += page.length;
      const last = page.at(-1);
      if (!last || page.length < RECOVERY_PAGE_SIZE) return scheduled;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  /** Stops scheduling; waits for attempts in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.close();
    await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async attempt(eventId: string, attempt: number): Promise<void> {
    if (this.closed) return;
    const loaded = await loadEventForDelivery(this.db(), eventId);
    if (!loaded || loaded.event.status !== 'pending' || loaded.event.attempts >= attempt) return; // done, or this attempt already ran
    const { event, secret } = loaded;
    const started = performance.now();
    const headers = { 'content-type': 'application/json', 'user-agent': 'Tolk-Webhooks/1', [SIGNATURE_HEADER]: signWebhook(secret, Math.floor(Date.now() / 1000), event.body) };
    const { statusCode, error, retryable } = await postWebhook(event.url, event.body, headers, { timeoutMs: this.settings.timeoutMs, policy: this.settings.egress });
    const outcome: AttemptOutcome = { attempt, statusCode, error, durationMs: performance.now() - started, result: 'delivered' };
    const delayMs = jitteredDelayMs(retryDelayMs(this.settings.retryBaseMs, attempt + 1));
    if (error !== null) {
      const last = attempt >= this.settings.maxAttempts || !retryable;
      outcome.result = last ? 'failed' : 'retry';
      if (!last) outcome.nextAttemptAt = new Date(Date.now() + delayMs);
    }
    await recordWebhookAttempt(this.db(), eventId, outcome);
    if (outcome.result === 'retry' && !this.closed) {
      await this.queue.schedule(eventId, attempt + 1, delayMs);
    } else if (outcome.result === 'failed') {
      this.log.warn({ eventId, type: event.type, attempts: attempt, error }, 'webhook event failed after its last attempt');
    }
  }
}
