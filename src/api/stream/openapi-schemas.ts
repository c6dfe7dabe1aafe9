import { z } from 'zod';
import type { RouteDocs } from '../openapi.js';

/**
 * The stream surface's HTTP error body (spec 002 "Error"), as `errorEvent` renders it
 * (`src/realtime/stream-events.ts`): `code` is the HTTP status as a number.
 */
export const streamErrorSchema = z.object({
  error: z.object({
    code: z.number().int().describe('The HTTP status, e.g. 401'),
    reason: z.string().describe('Its name, e.g. "Unauthorized"'),
    description: z.string().describe('What went wrong, in words'),
    reference_id: z.string().optional(),
  }),
});

/**
 * The query of `GET /v2/sdk/voice-translation/session/token`: `expiration_ttl`, the session key's
 * lifetime in seconds, from 1 to `maxTtlS` (`TOLK_SESSION_KEY_TTL_MAX_S`). The route parses its
 * query with this schema.
 */
export function sessionTokenQuery(maxTtlS: number): z.ZodObject<{ expiration_ttl: z.ZodOptional<z.ZodCoercedNumber<unknown>> }> {
  return z.object({
    expiration_ttl: z.coerce.number().int().min(1).max(maxTtlS).optional()
      .describe('Lifetime of the session key in seconds (default TOLK_SESSION_KEY_TTL_DEFAULT_S)'),
  });
}

/** The session token's answer (spec 002 "Session key generation": `response.data.data.session_key`). */
export const sessionTokenResponse = z.object({
  data: z.object({
    session_key: z.string().describe('vt_…: connect to /vt with authorization=api-key <session_key>'),
    expiration_ttl: z.number().int().describe('seconds'),
    expires_at: z.string().describe('ISO 8601'),
  }),
});

/** `GET /v2/sdk/voice-translation/session/token` for `/api/openapi.json` (docs/stream-protocol.md "Session key"). */
export function sessionTokenDocs(maxTtlS: number): RouteDocs {
  return {
    querystring: sessionTokenQuery(maxTtlS),
    response: {
      200: sessionTokenResponse,
      400: streamErrorSchema.describe('expiration_ttl is not an integer from 1 to the maximum'),
      401: streamErrorSchema.describe('Missing or unknown API key'),
      429: streamErrorSchema.describe('Past the per-key rate limit, or too many live session keys for this API key'),
      500: streamErrorSchema,
    },
  };
}
