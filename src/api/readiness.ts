import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/** How long a probe is told to wait before asking again while the process warms up, in s. */
export const READINESS_RETRY_AFTER_S = 2;

/**
 * The body of `GET /api/health/ready` (docs/deploy.md "Readiness"): `ready` once the engines can
 * serve a stream within the process's budget, else `starting` with what it still waits for.
 */
export const readinessResponse = z.object({
  status: z.enum(['ready', 'starting']),
  waiting_for: z.array(z.string()),
  timestamp: z.string(),
});

/**
 * Answers a readiness probe: 200 `{"status":"ready","waiting_for":[]}` when nothing is waited for,
 * else 503 `{"status":"starting","waiting_for":[…]}` with `Retry-After: 2` (load balancers and
 * Kubernetes readiness probes send no traffic until 200; `/api/health` stays the liveness probe).
 */
export function sendReadiness(reply: FastifyReply, waitingFor: readonly string[]): FastifyReply {
  const timestamp = new Date().toISOString();
  reply.header('cache-control', 'no-store');
  if (waitingFor.length === 0) return reply.code(200).send({ status: 'ready', waiting_for: [], timestamp });
  return reply.code(503).header('retry-after', String(READINESS_RETRY_AFTER_S)).send({ status: 'starting', waiting_for: [...waitingFor], timestamp });
}
