import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { memberships } from '../db/schema.js';
import type { KeyPrincipal, Role } from './api-keys.js';

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
