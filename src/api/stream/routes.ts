import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateApiKey } from '../../domain/api-keys.js';
import { issueSessionKey } from '../../domain/session-keys.js';
import type { AppContext } from '../../context.js';
import { errorEvent } from './protocol.js';
import { VtConnection } from './vt.js';

/**
 * Extracts the key from `authorization=api-key <KEY>` (also `Bearer <KEY>` or a bare key).
 * Returns undefined when the parameter is absent.
 */
export function keyFromAuthorization(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:api-key|bearer)\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : value.trim();
}

/**
 * The key a `/vt` client sent when it connected, in order of precedence (docs/decisions.md): the
 * `authorization` query parameter (spec 002 Part 1; the name in any case), then the
 * `Authorization` header (the session flow of spec 002 Part 2). Either may read `api-key <KEY>`,
 * `Bearer <KEY>` or the bare key. Undefined when neither is there; the config's `api_key` is the
 * last resort, read by the connection.
 */
export function connectKey(query: Record<string, unknown>, authorizationHeader: string | undefined): string | undefined {
  const name = Object.keys(query).find((k) => k.toLowerCase() === 'authorization');
  const raw = name === undefined ? undefined : query[name];
  const fromQuery = keyFromAuthorization(typeof raw === 'string' ? raw : Array.isArray(raw) ? String(raw[0]) : undefined);
  return fromQuery || keyFromAuthorization(authorizationHeader) || undefined;
}

/**
 * The stream surface (spec 002 Part 1): `GET /v2/sdk/voice-translation/session/token` and the
 * `/vt` WebSocket. HTTP errors use the stream's error shape `{"error":{code,reason,description}}`.
 */
export async function streamRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const ttlQuery = z.object({
    expiration_ttl: z.coerce.number().int().min(1).max(ctx.config.sessionKeyTtlMaxS).optional(),
  });

  app.get('/v2/sdk/voice-translation/session/token', async (request, reply) => {
    const key = keyFromAuthorization(request.headers.authorization);
    if (!key) return reply.code(401).type('application/json').send(errorEvent(401, 'Missing API key: send Authorization: api-key <API_KEY>'));
    const principal = await authenticateApiKey(ctx.db, key);
    if (!principal) return reply.code(401).type('application/json').send(errorEvent(401, 'Invalid API key'));
    const query = ttlQuery.safeParse(request.query);
    if (!query.success) {
      return reply
        .code(400)
        .type('application/json')
        .send(errorEvent(400, `expiration_ttl must be an integer number of seconds from 1 to ${ctx.config.sessionKeyTtlMaxS}`));
    }
    const ttlS = query.data.expiration_ttl ?? ctx.config.sessionKeyTtlDefaultS;
    const issued = await issueSessionKey(ctx.state, principal, ttlS);
    return { data: { session_key: issued.sessionKey, expiration_ttl: ttlS, expires_at: issued.expiresAt.toISOString() } };
  });

  app.get('/vt', { websocket: true }, (socket, request) => {
    const key = connectKey(request.query as Record<string, unknown>, request.headers.authorization);
    new VtConnection(ctx, socket, key, request.log);
  });
}
