import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CallSessionStatus } from '../../domain/calls/model.js';
import { listCallSessions, sessionDurationS, type StoredCallSession } from '../../domain/calls/sessions.js';
import { isoSeconds } from '../../domain/calls/webhooks.js';
import { principalOf } from '../platform/auth.js';
import { invalidField } from './errors.js';
import { listSessionsDocs } from './openapi-schemas.js';

const STATUSES: readonly CallSessionStatus[] = ['created', 'connecting', 'active', 'ended'];

/** A call session as `GET /v1/sessions` lists it: the session object without its stream (token) and transcript summary. */
function renderListedSession(s: StoredCallSession): Record<string, unknown> {
  return {
    id: s.id, object: 'session', status: s.status, mode: s.mode, source_language: s.sourceLanguage, target_language: s.targetLanguage,
    recording: { enabled: s.recording.enabled, channels: s.recording.channels }, duration: sessionDurationS(s),
    created_at: isoSeconds(s.createdAt), started_at: s.startedAt ? isoSeconds(s.startedAt) : null, ended_at: s.endedAt ? isoSeconds(s.endedAt) : null,
    ...(s.endReason ? { end_reason: s.endReason } : {}),
  };
}

/**
 * `GET /v1/sessions?limit&status` (not in spec 004; docs/calls.md "List sessions"): the caller's
 * organization's call sessions, newest first, for the console's Sessions page. `limit` 1–100
 * (default 20); `status` one of created, connecting, active, ended. Anything else is 400
 * `validation_error` naming the parameter.
 */
export async function listSessionRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { limit?: string; status?: string } }>('/sessions', { schema: { tags: ['calls'], summary: 'List call sessions', docs: listSessionsDocs } }, async (request) => {
    const { limit: rawLimit, status: rawStatus } = request.query;
    const limit = rawLimit === undefined ? 20 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidField('limit', 'limit must be an integer from 1 to 100.');
    const status = STATUSES.find((s) => s === rawStatus);
    if (rawStatus !== undefined && !status) throw invalidField('status', `status must be one of ${STATUSES.join(', ')}.`);
    const page = await listCallSessions(ctx.db, principalOf(request).organizationId, { limit, status });
    return { object: 'list', data: page.sessions.map(renderListedSession), has_more: page.hasMore };
  });
}
