import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.js';
import {
  claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_LEASE_MS, MAX_IDEMPOTENCY_KEY_LENGTH, releaseIdempotencyKey, renewIdempotencyLease, requestHash,
  type ClaimOptions, type IdempotencyLease, type StoredResponse,
} from '../../domain/calls/idempotency.js';
import { AppError } from '../../errors.js';
import { callsErrorBody, CallsError } from './errors.js';

/** How long a retry waits for the first request with its key to finish before answering 409, in ms. */
const WAIT_FOR_FIRST_MS = 10_000;
/** How often a waiting retry looks again, in ms. */
const POLL_MS = 20;

/**
 * Runs `handler` at most once per `Idempotency-Key` of the caller's organization (vendor docs
 * "Idempotency", Stripe's convention): the first request runs; a retry with the same body gets the
 * first response again — same status and body — with `Idempotent-Replayed: true`; a different body
 * is 400 `idempotency_mismatch`; a retry while the first still runs waits for it (up to 10 s, then
 * 409 `idempotency_conflict`). Client errors (4xx but 429) are stored like successes; a 5xx or 429 forgets the key
 * so a retry runs again. Without the header, `handler` just runs.
 *
 * The first request's claim is a lease renewed while it runs (`options.leaseMs`): when its process
 * dies the lease runs out and a retry runs instead of waiting 24 h. An organization holding
 * `options.maxKeysPerOrganization` keys gets 429 `idempotency_keys_exhausted` for a new one.
 */
export async function idempotent(
  db: Database, request: FastifyRequest, reply: FastifyReply, organizationId: string,
  handler: () => Promise<StoredResponse>, options: Pick<ClaimOptions, 'leaseMs' | 'maxKeysPerOrganization'> = {},
): Promise<unknown> {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined) return send(reply, await run(handler), false);
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new CallsError('BAD_REQUEST', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`, 'invalid_request', 'invalid_request_error', 'Idempotency-Key');
  }
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const hash = requestHash(route, request.body ?? null);
  let claim = await claimIdempotencyKey(db, organizationId, key, route, hash, options);
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  while (claim.kind === 'in_progress' && Date.now() < deadline) {
    await sleep(POLL_MS);
    claim = await claimIdempotencyKey(db, organizationId, key, route, hash, options); // owner once the first one's lease ran out
  }
  switch (claim.kind) {
    case 'replay':
      return send(reply, claim.response, true);
    case 'mismatch':
      throw new CallsError('BAD_REQUEST', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`, 'idempotency_mismatch', 'invalid_request_error', 'Idempotency-Key');
    case 'in_progress':
      throw new CallsError('CONFLICT', `A request with Idempotency-Key '${key}' is still being processed; retry later.`, 'idempotency_conflict', 'invalid_request_error', 'Idempotency-Key');
    case 'too_many':
      throw new CallsError('RATE_LIMITED', `This organization holds ${claim.limit} Idempotency-Keys of the last 24 hours, the most it may; retry without the header or later.`, 'idempotency_keys_exhausted', 'rate_limit_error', 'Idempotency-Key');
    case 'owner':
      break;
  }
  return send(reply, await runAsOwner(db, claim.lease, handler, options.leaseMs), false);
}

/** Runs the owner's handler while renewing its lease every third of it; stores or forgets the key after. */
async function runAsOwner(db: Database, lease: IdempotencyLease, handler: () => Promise<StoredResponse>, leaseMs?: number): Promise<StoredResponse> {
  const heartbeat = setInterval(() => void renewIdempotencyLease(db, lease, leaseMs).catch(() => undefined), Math.max(10, Math.floor((leaseMs ?? IDEMPOTENCY_LEASE_MS) / 3)));
  heartbeat.unref();
  let response: StoredResponse;
  try {
    response = await run(handler);
  } catch (err) {
    await releaseIdempotencyKey(db, lease);
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
  if (response.status >= 500 || response.status === 429) await releaseIdempotencyKey(db, lease); // a retry may succeed
  else await completeIdempotencyKey(db, lease, response);
  return response;
}

/** Runs the handler; a client error it throws becomes a response (stored for replays like a success). */
async function run(handler: () => Promise<StoredResponse>): Promise<StoredResponse> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { status: err.status, body: callsErrorBody(err) };
    throw err;
  }
}

function send(reply: FastifyReply, response: StoredResponse, replayed: boolean): unknown {
  if (replayed) void reply.header('Idempotent-Replayed', 'true');
  void reply.code(response.status);
  return response.body;
}
