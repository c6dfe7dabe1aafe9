import type { FastifyInstance, FastifySchema } from 'fastify';
import type { RouteDocs } from '../openapi.js';
import type { AppContext } from '../../context.js';
import { ensureWebhookEndpoint, isoSeconds, listWebhookEvents, rollWebhookSecret, setWebhookEndpointUrl, type WebhookEndpoint } from '../../domain/calls/webhooks.js';
import { principalOf, requireRole } from '../platform/auth.js';
import { invalidField } from './errors.js';
import { assertWebhookDestination } from './session-request.js';
import { listEndpointsDocs, listEventsDocs, setEndpointDocs } from './openapi-schemas.js';

function renderEndpoint(e: WebhookEndpoint): Record<string, unknown> {
  return { id: e.id, object: 'webhook_endpoint', url: e.url, secret: e.secret, created_at: isoSeconds(e.createdAt) };
}

function parseUrl(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalidField('url', 'url must be an http(s) URL, or null.');
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    return u.toString();
  } catch {
    throw invalidField('url', `url '${value}' is not an http(s) URL.`);
  }
}

/**
 * The organization's webhook endpoint and event log (docs/calls.md "Webhooks"), owner or admin
 * keys only: `GET /v1/webhook_endpoints` (its URL and signing secret, created on first use),
 * `POST /v1/webhook_endpoints` `{url}` (sets the URL; `roll_secret: true` replaces the secret),
 * `GET /v1/webhook_events?session_id=&limit=` (events with every delivery attempt).
 */
export async function webhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const admin = { preHandler: requireRole('admin') };
  const docs = (summary: string, routeDocs: RouteDocs): { schema: FastifySchema } => ({ schema: { tags: ['calls'], summary, docs: routeDocs } });
  app.get('/webhook_endpoints', { ...admin, ...docs('The organization\'s webhook endpoint (created on first use)', listEndpointsDocs) }, async (request) => {
    const endpoint = await ensureWebhookEndpoint(ctx.db, principalOf(request).organizationId);
    return { object: 'list', data: [renderEndpoint(endpoint)] };
  });

  app.post('/webhook_endpoints', { ...admin, ...docs('Set the webhook URL or roll its secret', setEndpointDocs) }, async (request) => {
    const org = principalOf(request).organizationId;
    const body = (request.body ?? {}) as { url?: unknown; roll_secret?: unknown };
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidField('body', 'The request body must be a JSON object.', 'invalid_request');
    if (body.roll_secret !== undefined && typeof body.roll_secret !== 'boolean') throw invalidField('roll_secret', 'roll_secret must be true or false.');
    const url = body.url === undefined ? undefined : parseUrl(body.url);
    if (url !== undefined) assertWebhookDestination(ctx.config.calls.webhookEgress, url, 'url');
    let endpoint = url === undefined ? await ensureWebhookEndpoint(ctx.db, org) : await setWebhookEndpointUrl(ctx.db, org, url);
    if (body.roll_secret === true) endpoint = await rollWebhookSecret(ctx.db, org);
    return renderEndpoint(endpoint);
  });

  app.get<{ Querystring: { session_id?: string; limit?: string } }>('/webhook_events', { ...admin, ...docs('Webhook events with every delivery attempt', listEventsDocs) }, async (request) => {
    const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidField('limit', 'limit must be an integer from 1 to 100.');
    const events = await listWebhookEvents(ctx.db, principalOf(request).organizationId, { sessionId: request.query.session_id, limit });
    return {
      object: 'list',
      data: events.map((e) => ({
        id: e.id, object: 'webhook_event', type: e.type, session_id: e.sessionId, url: e.url, status: e.status,
        attempts: e.attempts, next_attempt_at: e.nextAttemptAt ? isoSeconds(e.nextAttemptAt) : null, last_error: e.lastError,
        created_at: isoSeconds(e.createdAt), delivered_at: e.deliveredAt ? isoSeconds(e.deliveredAt) : null,
        delivery_attempts: e.attemptLog.map((a) => ({ attempt: a.attempt, status_code: a.statusCode, error: a.error, duration_ms: a.durationMs, at: isoSeconds(a.at) })),
      })),
    };
  });
}
