import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { checkStreamAdmission, createStreamCounter, recordUsage, type OrganizationEngines, type StreamCounter } from '../domain/admission.js';
import { recordStreamDay } from '../domain/usage-stats.js';
import type { SessionKeyGrant } from '../domain/session-keys.js';
import type { StreamConfig } from './stream-config.js';

/** How often a live stream's audio is charged to its organization's balance, in ms. */
const BALANCE_CHARGE_INTERVAL_MS = 30_000;

/** A stream the organization admitted: its tier for leg 2, and its metering until it ends. */
export interface AdmittedStream {
  /** The organization's tier (spec 002 Part 3 `tier`). */
  readonly tier: number;
  /** The organization's engine choice (docs/engines.md "Organizations"), merged into leg 2. */
  readonly engines: OrganizationEngines;
  /** Audio received from the client, `durationMs` long: charged to the organization's balance. */
  audioReceived(durationMs: number): void;
  /** The stream ended: charges what is left and frees its concurrency slot. Idempotent, never throws. */
  end(): Promise<void>;
}

/** The answer of {@link admitStream}: the admitted stream, or the `error` event's status and description. */
export type StreamAdmission = { ok: true; stream: AdmittedStream } | { ok: false; status: number; description: string };

/** One counter per process (per app context): shared in Redis when the process has `REDIS_URL`. */
const counters = new WeakMap<AppContext, StreamCounter>();

function counterOf(ctx: AppContext, log: FastifyBaseLogger): StreamCounter {
  let counter = counters.get(ctx);
  if (!counter) {
    counter = createStreamCounter(ctx.redis, { onError: (err) => log.warn({ err }, 'stream counter: a Redis call failed (a new stream is admitted without a slot; a lost release expires with its lease)') });
    counters.set(ctx, counter);
  }
  return counter;
}

/**
 * Spec 002 Part 2 step 2 for a `/vt` stream, the organization's part (the connection checks the
 * process's `TOLK_MAX_STREAMS` before): tier, balance and concurrency through
 * `checkStreamAdmission` (docs/admission.md), for the organization the stream belongs to (a
 * session-bound key's session's, else the key's). An admitted stream charges the audio it receives
 * to the organization's balance (`recordUsage`) every 30 s and when it ends — unless it was opened
 * in test mode (an `ip_test_` key, or a session key or `streamToken` it issued): test streams are
 * admitted by the same checks but never charged (docs/platform.md "Test mode"). Either way its audio is
 * counted per day for the console's Usage page (`recordStreamDay`).
 * @throws {Error} when the database cannot be read (the connection answers 500).
 */
export async function admitStream(ctx: AppContext, request: { principal: SessionKeyGrant; config: StreamConfig; log: FastifyBaseLogger }): Promise<StreamAdmission> {
  const organizationId = request.principal.binding?.organizationId ?? request.principal.organizationId;
  const { config, log } = request;
  const result = await checkStreamAdmission(ctx.db, counterOf(ctx, log), {
    organizationId, sourceLanguage: config.source_language, targetLanguage: config.target_language, voice: config.voice,
  });
  if (!result.ok) return { ok: false, status: result.status, description: result.description };
  const charged = request.principal.mode !== 'test';
  let pendingMs = 0;
  let charges: Promise<void> = Promise.resolve();
  const charge = (): void => {
    const ms = pendingMs;
    pendingMs = 0;
    if (ms <= 0) return;
    charges = charges.then(async () => {
      try {
        await recordStreamDay(ctx.db, organizationId, ms, !charged);
        if (charged) await recordUsage(ctx.db, organizationId, ms);
      } catch (err) {
        log.error({ err, organizationId }, 'could not charge stream usage');
      }
    });
  };
  const timer = setInterval(charge, BALANCE_CHARGE_INTERVAL_MS);
  timer.unref();
  let ended: Promise<void> | undefined;
  return {
    ok: true,
    stream: {
      tier: result.tier,
      engines: result.engines,
      audioReceived: (durationMs) => void (pendingMs += durationMs),
      end: () =>
        (ended ??= (async () => {
          clearInterval(timer);
          charge();
          await charges;
          await result.release().catch((err: unknown) => log.warn({ err }, 'could not release the stream slot'));
        })()),
    },
  };
}
