import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, memberships } from '../db/schema.js';
import { ensureOrganization, type KeyPrincipal, type Role } from './api-keys.js';

/**
 * The role a key holds in an organization (spec 000 `organization_id`: "if the user belongs to
 * multiple organizations"): its own role in its home organization, the `memberships` row's role in
 * another one, undefined when it does not belong to it.
 */
export async function roleInOrganization(db: Database, principal: KeyPrincipal, organizationId: string): Promise<Role | undefined> {
  if (organizationId === principal.organizationId) return principal.role;
  const rows = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.apiKeyId, principal.keyId), eq(memberships.organizationId, organizationId)))
    .limit(1);
  return rows[0]?.role;
}

/**
 * Every organization a key may act in, with its role there: the home organization first, then the
 * `memberships` rows.
 * @returns a map of organization id → role (never empty).
 */
export async function organizationsOf(db: Database, principal: KeyPrincipal): Promise<Map<string, Role>> {
  const rows = await db
    .select({ organizationId: memberships.organizationId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.apiKeyId, principal.keyId));
  const orgs = new Map<string, Role>([[principal.organizationId, principal.role]]);
  for (const r of rows) if (!orgs.has(r.organizationId)) orgs.set(r.organizationId, r.role);
  return orgs;
}

/**
 * Lets a key act in another organization (made if missing) with `role` there, so `organization_id`
 * on `POST /api/sessions` can name it. Granting again changes the role.
 * @returns the organization's id and name.
 * @throws {Error} when the key does not exist.
 */
export async function grantMembership(
  db: Database,
  options: { apiKeyId: string; organizationName: string; role: Role },
): Promise<{ organizationId: string; organizationName: string; role: Role }> {
  const key = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, options.apiKeyId)).limit(1);
  if (!key[0]) throw new Error(`no API key with id ${options.apiKeyId}`);
  const org = await ensureOrganization(db, options.organizationName);
  await db.insert(memberships).values({ apiKeyId: options.apiKeyId, organizationId: org.id, role: options.role })
    .onConflictDoUpdate({ target: [memberships.apiKeyId, memberships.organizationId], set: { role: options.role } });
  return { organizationId: org.id, organizationName: org.name, role: options.role };
}
