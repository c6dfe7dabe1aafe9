import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { createOrganizationKey, deleteApiKey, listApiKeys, rotateApiKey } from '../../domain/api-keys.js';
import { recordAudit } from '../../domain/audit.js';
import { AppError } from '../../errors.js';
import { principalOf, requireRole } from './auth.js';
import { errorResponses, idParams, successResponse } from './schemas.js';

const listedKey = z.object({
  id: z.string(),
  name: z.string(),
  key_prefix: z.string(),
  role: z.enum(['owner', 'admin', 'member']),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
const createBody = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.enum(['owner', 'admin', 'member']).optional().describe('Role of the new key (default member; at most the caller\'s own role)'),
  test: z.boolean().optional().describe('Create an ip_test_ key'),
});
const fullKey = z.object({ id: z.string(), name: z.string(), key: z.string() });

/** API keys of spec 000 "API Keys": list, create, rotate (owner/admin), delete. */
export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'List API keys (masked)', response: { 200: z.object({ keys: z.array(listedKey) }), ...errorResponses } },
  }, async (request) => {
    const keys = await listApiKeys(ctx.db, principalOf(request).organizationId);
    return {
      keys: keys.map((k) => ({
        id: k.id, name: k.name, key_prefix: k.keyPrefix, role: k.role,
        created_at: k.createdAt.toISOString(), last_used_at: k.lastUsedAt?.toISOString() ?? null,
      })),
    };
  });

  r.post('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'Create an API key (the key is returned only here)', body: createBody, response: { 200: fullKey, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const role = request.body.role ?? 'member';
    const rank = { member: 0, admin: 1, owner: 2 };
    if (rank[role] > rank[principal.role]) throw new AppError('FORBIDDEN', `A ${principal.role} key cannot create a ${role} key`);
    const created = await createOrganizationKey(ctx.db, { organizationId: principal.organizationId, name: request.body.name, role, test: request.body.test ?? false });
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.created', targetId: created.id });
    return { id: created.id, name: created.name, key: created.key };
  });

  r.post('/api-keys/:id/rotate', {
    preHandler: requireRole('admin'),
    schema: { tags: ['api-keys'], summary: 'Rotate an API key (owner/admin)', params: idParams, response: { 200: fullKey, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const rotated = await rotateApiKey(ctx.db, principal.organizationId, request.params.id);
    if (!rotated) throw new AppError('NOT_FOUND', `API key ${request.params.id} not found`);
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.rotated', targetId: rotated.id });
    return rotated;
  });

  r.delete('/api-keys/:id', {
    schema: { tags: ['api-keys'], summary: 'Delete an API key', params: idParams, response: { 200: successResponse, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    if (!(await deleteApiKey(ctx.db, principal.organizationId, request.params.id))) {
      throw new AppError('NOT_FOUND', `API key ${request.params.id} not found`);
    }
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.deleted', targetId: request.params.id });
    return { success: true as const };
  });
}
