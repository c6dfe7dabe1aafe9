import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { MAX_USAGE_DAYS, usagePerDay } from '../../domain/usage-stats.js';
import { configuredEngines } from '../../providers/engine-listing.js';
import { principalOf, requireRole } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorResponses } from './schemas.js';

const liveResponse = z.object({
  streams: z.array(z.object({
    surface: z.string().describe('vt, calls, livekit or phone'),
    source_language: z.string(),
    target_language: z.string(),
    started_at: z.string().describe('ISO 8601'),
    duration_ms: z.number().int(),
  })),
  capacity: z.object({
    max_streams: z.number().int().describe('TOLK_MAX_STREAMS of this process'),
    streams_held: z.number().int().describe('Streams of every organization this process runs now'),
    organization_share: z.number().int().describe('Streams one organization may hold at most'),
    budget: z.object({
      budget_cpu: z.number().describe('CPU seconds per second the streams may use: cores × target utilisation'),
      cost_per_stream_cpu: z.number().nullable().describe('Measured CPU seconds per second of one stream; null before the first measurement'),
      capacity_streams: z.number().int().describe('Streams that fit the budget now'),
      admitted: z.number().int().describe('Streams admitted and live'),
      refused: z.number().int().describe('Streams refused because the budget was spent, since start'),
      shed: z.number().int().describe('Streams ended for falling behind real time, since start'),
      waiting_for: z.array(z.string()),
    }).nullable().describe('The real-time budget (docs/deploy.md "Capacity"); null on a gateway, which runs no pipelines'),
  }),
});

const usageResponse = z.object({
  days: z.array(z.object({
    date: z.string().describe('YYYY-MM-DD, UTC'),
    minutes: z.number().describe('Audio streamed into sessions started that day, in minutes (2 decimals)'),
    sessions: z.number().int(),
    utterances: z.number().int(),
    final_p50_ms: z.number().int().nullable(), final_p95_ms: z.number().int().nullable(),
    translation_p50_ms: z.number().int().nullable(), translation_p95_ms: z.number().int().nullable(),
  })),
});

const enginesResponse = z.object({
  engines: z.array(z.object({
    id: z.string(), kind: z.enum(['stt', 'mt', 'tts', 'llm']), name: z.string().describe('The engine module'),
    routes: z.array(z.string()).describe('Route keys (a language, a pair like en-es, or default) that list it; empty: it serves every route of its kind without one'),
    health: z.object({
      requests: z.number().int(), failures: z.number().int(), retries: z.number().int(),
      mean_ms: z.number().int().nullable(), p95_ms: z.number().int().nullable(),
    }).nullable().describe('Since the process started; null for an engine that has had no request since then'),
  })),
  language_pairs: z.array(z.string()).describe('source-target pairs the engines translate'),
});

/** The live part of `GET /api/ops/live`: this organization's streams on this process, and its capacity. */
function liveReport(ctx: AppContext, organizationId: string, nowMs: number): z.infer<typeof liveResponse> {
  const report = ctx.metrics.capacity();
  return {
    streams: ctx.slots.streamsOf(organizationId).map((s) => ({
      surface: s.surface, source_language: s.sourceLanguage, target_language: s.targetLanguage,
      started_at: new Date(s.startedAtMs).toISOString(), duration_ms: Math.max(0, nowMs - s.startedAtMs),
    })),
    capacity: {
      max_streams: ctx.slots.capacity, streams_held: ctx.slots.held, organization_share: ctx.slots.tenantCap,
      budget: report ? {
        budget_cpu: report.budgetCpu, cost_per_stream_cpu: report.costPerAudioS ?? null, capacity_streams: report.capacity,
        admitted: report.load, refused: report.refused, shed: report.shed, waiting_for: report.waitingFor,
      } : null,
    },
  };
}

/**
 * The console's operations reads (docs/platform.md "Operations"), owner or admin (403 for members),
 * always the caller's own organization:
 * - `GET /ops/live`: its streams running on this process now and the process's capacity;
 * - `GET /ops/usage?days=30`: minutes and latency percentiles per UTC day (1–90 days);
 * - `GET /ops/engines`: the configured engines (id, kind, module, routes; never their settings) and
 *   their request health since start.
 */
export const opsRoutes: PlatformRoutePlugin = async (app, ctx) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = requireRole('admin');
  r.get('/ops/live', {
    preHandler: admin,
    schema: { tags: ['operations'], summary: 'The organization\'s streams running now and the server\'s capacity (owner/admin)', response: { 200: liveResponse, ...errorResponses } },
  }, async (request) => liveReport(ctx, principalOf(request).organizationId, Date.now()));

  r.get('/ops/usage', {
    preHandler: admin,
    schema: {
      tags: ['operations'], summary: 'Minutes and latency percentiles per day (owner/admin)',
      querystring: z.object({ days: z.coerce.number().int().min(1).max(MAX_USAGE_DAYS).default(30).describe(`Days back, today included (1–${MAX_USAGE_DAYS})`) }),
      response: { 200: usageResponse, ...errorResponses },
    },
  }, async (request) => {
    const days = await usagePerDay(ctx.db, principalOf(request).organizationId, request.query.days);
    return {
      days: days.map((d) => ({
        date: d.date, minutes: Math.round(d.audioMs / 600) / 100, sessions: d.sessions, utterances: d.utterances,
        final_p50_ms: d.finalP50Ms, final_p95_ms: d.finalP95Ms, translation_p50_ms: d.translationP50Ms, translation_p95_ms: d.translationP95Ms,
      })),
    };
  });

  r.get('/ops/engines', {
    preHandler: admin,
    schema: { tags: ['operations'], summary: 'The configured engines, their routes and health (owner/admin)', response: { 200: enginesResponse, ...errorResponses } },
  }, async () => {
    const health = await ctx.metrics.engineHealth();
    return {
      engines: configuredEngines(ctx.config.engines).map((e) => {
        const h = health.get(e.id);
        return { ...e, health: h ? { requests: h.requests, failures: h.failures, retries: h.retries, mean_ms: h.meanMs, p95_ms: h.p95Ms } : null };
      }),
      language_pairs: ctx.engines.mt.capabilities.pairs.map((p) => `${p.source}-${p.target}`),
    };
  });
};
