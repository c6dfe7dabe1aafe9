import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { TOLK_VERSION } from '../../version.js';
import { readinessResponse, sendReadiness } from '../readiness.js';

const healthResponse = z.object({ status: z.literal('ok'), version: z.string(), timestamp: z.string() });
const uptimeResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  checks: z.object({ database: z.enum(['ok', 'error']), environment: z.enum(['ok', 'error']) }),
  timestamp: z.string(),
});

/**
 * Health probes of spec 000 "Health", no authentication: `/health` (liveness), `/health/ready`
 * (readiness for load balancers, docs/deploy.md "Readiness") and `/health/uptime`.
 */
export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness probe', security: [], response: { 200: healthResponse } },
  }, async () => ({ status: 'ok' as const, version: TOLK_VERSION, timestamp: new Date().toISOString() }));

  r.get('/health/ready', {
    schema: {
      tags: ['health'], summary: 'Readiness probe: the engines can serve a stream within budget (503 with what it waits for until then)',
      security: [], response: { 200: readinessResponse, 503: readinessResponse },
    },
  }, async (_request, reply) => sendReadiness(reply, ctx.readiness?.() ?? []));

  r.get('/health/uptime', {
    schema: { tags: ['health'], summary: 'Readiness probe: database and configuration', security: [], response: { 200: uptimeResponse, 503: uptimeResponse } },
  }, async (_request, reply) => {
    let database: 'ok' | 'error' = 'ok';
    try {
      await ctx.db.execute(sql`select 1`);
    } catch {
      database = 'error';
    }
    const environment = environmentProblems(ctx).length === 0 ? 'ok' : 'error';
    const healthy = database === 'ok' && environment === 'ok';
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'healthy' : 'unhealthy',
      checks: { database, environment },
      timestamp: new Date().toISOString(),
    });
  });
}

/** What is wrong with the configuration: speech engines missing, half-set LiveKit credentials. */
export function environmentProblems(ctx: AppContext): string[] {
  const problems: string[] = [];
  if (ctx.engines.mt.capabilities.pairs.length === 0) problems.push('no machine translation pair is installed');
  if (ctx.engines.tts.capabilities.languages.length === 0) problems.push('no speech synthesis voice is installed');
  const lk = ctx.config.liveKit;
  if (!lk.url || !lk.apiKey || !lk.apiSecret) problems.push('LiveKit settings are incomplete');
  return problems;
}
