import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { authenticateApiKey, type KeyPrincipal, type Role } from '../../domain/api-keys.js';
import { roleAtLeast } from '../../domain/key-policy.js';
import { AppError } from '../../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated API key (platform routes behind {@link authenticate}). */
    principal?: KeyPrincipal;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * `onRequest` hook of spec 000 "Authentication": `Authorization: Bearer <key>` on every route it
 * guards. Missing, malformed, unknown, rotated-away and deleted keys are 401 `UNAUTHORIZED`; the key
 * is looked up on every request, so a rotation or deletion takes effect at once.
 * @throws {AppError} UNAUTHORIZED.
 */
export function authenticate(ctx: AppContext) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw new AppError('UNAUTHORIZED', 'Missing API key: send Authorization: Bearer <key>');
    const match = BEARER.exec(header);
    if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Malformed Authorization header: use Bearer <key>');
    const principal = await authenticateApiKey(ctx.db, match[1]);
    if (!principal) throw new AppError('UNAUTHORIZED', 'Invalid API key');
    request.principal = principal;
  };
}

/** True when `role` is at least `required` (owner > admin > member); see `domain/key-policy.ts`. */
export { roleAtLeast };

/**
 * The authenticated principal of a request behind {@link authenticate}.
 * @throws {AppError} UNAUTHORIZED when the route is not guarded (a wiring bug, never a client's).
 */
export function principalOf(request: FastifyRequest): KeyPrincipal {
  if (!request.principal) throw new AppError('UNAUTHORIZED', 'Missing API key: send Authorization: Bearer <key>');
  return request.principal;
}

/**
 * `preHandler` hook requiring a role of the key's organization (spec 000: "Requires owner or admin
 * role").
 * @throws {AppError} FORBIDDEN.
 */
export function requireRole(required: Role) {
  return async (request: FastifyRequest): Promise<void> => {
    const principal = principalOf(request);
    if (!roleAtLeast(principal.role, required)) {
      throw new AppError('FORBIDDEN', `This action requires the ${required} role or higher; this key's role is ${principal.role}`);
    }
  };
}
