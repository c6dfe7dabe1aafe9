import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.js';
import {
  claimIdempotencyKey, completeIdempotencyKey, inspectIdempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH, releaseIdempotencyKey, requestHash, type StoredResponse,
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
 * 409 `idempotency_conflict`). Client errors (4xx) are stored like successes; a 5xx forgets the key
 * so a retry runs again. Without the header, `handler` just runs.
 */
export async function idempotent(
  db: Database, request: FastifyRequest, reply: FastifyReply, organizationId: string,
  handler: () => Promise<StoredResponse>,
): Promise<unknown> {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined) return send(reply, await run(handler), false);
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new CallsError('BAD_REQUEST', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`, 'invalid_request', 'invalid_request_error', 'Idempotency-Key');
  }
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const hash = requestHash(route, request.body ?? null);
  let claim = await claimIdempotencyKey(db, organizationId, key, route, hash);
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  while (claim.kind === 'in_progress' && Date.now() < deadline) {
    await sleep(POLL_MS);
    claim = await inspectIdempotencyKey(db, organizationId, key, route, hash);
  }
  switch (claim.kind) {
    case 'replay':
      return send(reply, claim.response, true);
    case 'mismatch':
      throw new CallsError('BAD_REQUEST', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`, 'idempotency_mismatch', 'invalid_request_error', 'Idempotency-Key');
    case 'in_progress':
      throw new CallsError('CONFLICT', `A request with Idempotency-Key '${key}' is still being processed; retry later.`, 'idempotency_conflict', 'invalid_request_error', 'Idempotency-Key');
    case 'owner':
      break;
  }
  let response: StoredResponse;
  try {
    response = await run(handler);
  } catch (err) {
    await releaseIdempotencyKey(db, organizationId, key);
    throw err;
  }
  if (response.status >= 500) await releaseIdempotencyKey(db, organizationId, key);
  else await completeIdempotencyKey(db, organizationId, key, response);
  return send(reply, response, false);
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
