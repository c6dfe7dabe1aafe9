import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { createOrganizationKey, deleteApiKey, findOrganizationKey, listApiKeys, rotateApiKey, type KeyPrincipal, type OrganizationKey } from '../../domain/api-keys.js';
import { recordAudit } from '../../domain/audit.js';
import { countOrganizationKeys } from '../../domain/key-limits.js';
import { keyActionRefusal, keyCreationRefusal, type KeyAction } from '../../domain/key-policy.js';
import { AppError } from '../../errors.js';
import { principalOf, requireRole } from './auth.js';
import { errorResponses, idParams, successResponse } from './schemas.js';

const listedKey = z.object({
  id: z.string(),
  name: z.string(),
  key_prefix: z.string().describe('ip_live_•••• or ip_test_•••• (spec 000)'),
  key_hint: z.string().describe('The key\'s first 12 characters and …, e.g. ip_live_Ab3x…: tells keys apart without revealing them'),
  role: z.enum(['owner', 'admin', 'member']),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
const createBody = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.enum(['owner', 'admin', 'member']).optional().describe('Role of the new key (default member; at most the caller\'s own role)'),
  test: z.boolean().optional().describe('Create an ip_test_ key (default: the caller\'s mode; a test key creates test keys only)'),
});
const fullKey = z.object({ id: z.string(), name: z.string(), key: z.string() });

/**
 * The key `keyId` of the caller's organization that the caller may `action`.
 * @throws {AppError} NOT_FOUND for an unknown id or another organization's; FORBIDDEN when
 *   `keyActionRefusal` refuses (a higher role's key, another key for a member, a live key for a test key).
 */
async function actionableKey(ctx: AppContext, principal: KeyPrincipal, keyId: string, action: KeyAction): Promise<OrganizationKey> {
  const target = await findOrganizationKey(ctx.db, principal.organizationId, keyId);
  if (!target) throw new AppError('NOT_FOUND', `API key ${keyId} not found`);
  const refusal = keyActionRefusal(principal, target, action);
  if (refusal) throw new AppError('FORBIDDEN', refusal);
  return target;
}

/**
 * What a rotated or deleted key leaves behind ends now: the session keys it issued stop counting
 * against its limit (they no longer resolve: their fingerprint is stale or the key is gone), and its
 * live `/vt` streams, on every process, get `error` 401 and close 4401.
 * @returns how many live streams this process ended.
 */
async function endKeyStreams(ctx: AppContext, keyId: string, change: 'rotated' | 'deleted'): Promise<number> {
  await ctx.sessionKeys.ledger.clear(keyId);
  return ctx.sessions.disconnectKey(keyId, change);
}

/**
 * API keys of spec 000 "API Keys": list, create, rotate (owner/admin), delete. Who may act on which
 * key is `keyActionRefusal`'s rule (docs/platform.md "Authentication and roles"); rotating or
 * deleting a key also ends the session keys and live streams it stands behind.
 */
export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'List API keys (masked)', response: { 200: z.object({ keys: z.array(listedKey) }), ...errorResponses } },
  }, async (request) => {
    const keys = await listApiKeys(ctx.db, principalOf(request).organizationId);
    return {
      keys: keys.map((k) => ({
        id: k.id, name: k.name, key_prefix: k.keyPrefix, key_hint: k.keyHint, role: k.role,
        created_at: k.createdAt.toISOString(), last_used_at: k.lastUsedAt?.toISOString() ?? null,
      })),
    };
  });

  r.post('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'Create an API key (the key is returned only here)', body: createBody, response: { 200: fullKey, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const role = request.body.role ?? 'member';
    const test = request.body.test ?? principal.mode === 'test';
    const refusal = keyCreationRefusal(principal, role, test ? 'test' : 'live');
    if (refusal) throw new AppError('FORBIDDEN', refusal);
    if (await countOrganizationKeys(ctx.db, principal.organizationId) >= ctx.config.maxApiKeysPerOrg) {
      throw new AppError('CONFLICT', `This organization holds ${ctx.config.maxApiKeysPerOrg} API keys, the most it may (TOLK_MAX_API_KEYS_PER_ORG): delete one first`);
    }
    const created = await createOrganizationKey(ctx.db, { organizationId: principal.organizationId, name: request.body.name, role, test });
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.created', targetId: created.id });
    return { id: created.id, name: created.name, key: created.key };
  });

  r.post('/api-keys/:id/rotate', {
    preHandler: requireRole('admin'),
    schema: { tags: ['api-keys'], summary: 'Rotate an API key (owner/admin; a key of a role up to the caller\'s)', params: idParams, response: { 200: fullKey, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    await actionableKey(ctx, principal, request.params.id, 'rotate');
    const rotated = await rotateApiKey(ctx.db, principal.organizationId, request.params.id);
    if (!rotated) throw new AppError('NOT_FOUND', `API key ${request.params.id} not found`);
    const disconnected = await endKeyStreams(ctx, rotated.id, 'rotated');
    await recordAudit(ctx.db, {
      organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.rotated', targetId: rotated.id, detail: { disconnectedStreams: disconnected },
    });
    return rotated;
  });

  r.delete('/api-keys/:id', {
    schema: { tags: ['api-keys'], summary: 'Delete an API key (a member: only its own; never the last owner key)', params: idParams, response: { 200: successResponse, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const keyId = request.params.id;
    const target = await actionableKey(ctx, principal, keyId, 'delete');
    const result = await deleteApiKey(ctx.db, principal.organizationId, keyId);
    if (result === 'not-found') throw new AppError('NOT_FOUND', `API key ${keyId} not found`);
    if (result === 'last-owner') {
      throw new AppError('CONFLICT', `API key ${keyId} is the organization's last ${target.mode} owner key: create another ${target.mode} owner key first, then delete this one`);
    }
    const disconnected = await endKeyStreams(ctx, keyId, 'deleted');
    await recordAudit(ctx.db, {
      organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'api_key.deleted', targetId: keyId, detail: { disconnectedStreams: disconnected },
    });
    return { success: true as const };
  });
}
