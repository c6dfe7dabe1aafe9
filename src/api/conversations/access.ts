import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { authenticateApiKey } from '../../domain/api-keys.js';
import { signInBody, signInDocs, signOutDocs } from './openapi-schemas.js';

/** The web app's sign-in cookie: the API key itself, HttpOnly and SameSite=Strict (docs/security.md "Lock-down"). */
export const SIGN_IN_COOKIE = 'tolk_key';
/** How long the sign-in cookie lasts, in seconds (30 days; signing out or revoking the key ends it sooner). */
const SIGN_IN_MAX_AGE_S = 30 * 24 * 3600;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The value of cookie `name` in a `Cookie` header, or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The key a request carries: `Authorization: Bearer <key>`, else the sign-in cookie. */
function presentedKey(request: FastifyRequest): string | undefined {
  const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
  return bearer ?? cookieValue(request.headers.cookie, SIGN_IN_COOKIE);
}

/**
 * Whether a request may use the locked parts of the conversations surface: always when
 * `TOLK_REQUIRE_KEY` is off, else when it carries a valid API key (looked up on every request, so a
 * revoked key stops working at once).
 */
export async function conversationAccessAllowed(ctx: AppContext, request: FastifyRequest): Promise<boolean> {
  if (!ctx.config.requireKey) return true;
  const key = presentedKey(request);
  return key !== undefined && (await authenticateApiKey(ctx.db, key)) !== undefined;
}

/**
 * `onRequest` hook of the locked routes (`POST /api/v1/session/create`, `/api/v1/ws/single`): with
 * `TOLK_REQUIRE_KEY=1`, a request without a valid key gets 401
 * `{"error":"An API key is required …"}` (a WebSocket's upgrade is refused with it).
 */
export function requireConversationKey(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await conversationAccessAllowed(ctx, request)) return;
    await reply.code(401).send({ error: 'An API key is required on this server: sign in on the web app, or send Authorization: Bearer <key>.' });
  };
}

function cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SIGN_IN_COOKIE}=${encodeURIComponent(value)}; Path=/api/v1; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/**
 * The web app's sign-in (docs/security.md "Lock-down"): `POST /api/v1/sign-in` `{"key":"…"}` checks
 * the key (401 `{"error":"Invalid API key."}`, 400 for a malformed body) and answers 204 with the
 * sign-in cookie; `POST /api/v1/sign-out` answers 204 and clears it.
 */
export function signInRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/api/v1/sign-in', { schema: { tags: ['conversations'], summary: 'Sign the web app in with an API key (cookie)', security: [], docs: signInDocs } }, async (request, reply) => {
    const body = signInBody.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ error: 'Send {"key": "<API key>"}.' });
    if (!(await authenticateApiKey(ctx.db, body.data.key))) return reply.code(401).send({ error: 'Invalid API key.' });
    return reply.code(204).header('set-cookie', cookie(request, body.data.key, SIGN_IN_MAX_AGE_S)).send();
  });
  app.post('/api/v1/sign-out', { schema: { tags: ['conversations'], summary: 'Sign the web app out', security: [], docs: signOutDocs } }, async (request, reply) => reply.code(204).header('set-cookie', cookie(request, '', 0)).send());
}
