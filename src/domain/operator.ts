import { and, asc, count, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, organizations } from '../db/schema.js';
import { keyHint, type Role } from './api-keys.js';

/** A key as the server's operator sees it (`tolk keys list`): never the key itself. */
export interface OperatorKey {
  id: string;
  name: string;
  organizationName: string;
  role: Role;
  mode: 'live' | 'test';
  /** `ip_live_Ab3x…` ({@link keyHint}). */
  hint: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, or null when never used. */
  lastUsedAt: string | null;
}

/**
 * Every live (not revoked) key, or those of one organization, oldest first (`tolk keys list`).
 * @throws {Error} when `organizationName` names no organization.
 */
export async function listKeysForOperator(db: Database, organizationName?: string): Promise<OperatorKey[]> {
  if (organizationName !== undefined) {
    const org = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.name, organizationName)).limit(1);
    if (!org[0]) throw new Error(`no organization named ${organizationName}`);
  }
  const rows = await db
    .select({
      id: apiKeys.id, name: apiKeys.name, org: organizations.name, role: apiKeys.role, mode: apiKeys.mode, prefix: apiKeys.prefix,
      createdAt: apiKeys.createdAt, lastUsedAt: apiKeys.lastUsedAt,
    })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .where(and(isNull(apiKeys.revokedAt), organizationName === undefined ? undefined : eq(organizations.name, organizationName)))
    .orderBy(asc(apiKeys.createdAt));
  return rows.map((r) => ({
    id: r.id, name: r.name, organizationName: r.org, role: r.role, mode: r.mode, hint: keyHint(r.prefix),
    createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  }));
}

/**
 * Revokes key `keyId` for good (`tolk keys revoke`): requests with it are 401 from now on, and so
 * are the session keys it issued (they are checked against the key as it is now). The operator may
 * revoke any key, also an organization's last owner key (`tolk keys create` makes another).
 * @returns the key as it was.
 * @throws {Error} when there is no such live key.
 */
export async function revokeKeyForOperator(db: Database, keyId: string): Promise<OperatorKey> {
  const found = (await listKeysForOperator(db)).find((k) => k.id === keyId);
  if (!found) throw new Error(`no live API key with id ${keyId} (tolk keys list shows them)`);
  await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId));
  return found;
}

/** An organization as `tolk orgs list` shows it. */
export interface OperatorOrganization {
  id: string;
  name: string;
  tier: number;
  /** Live (not revoked) keys of the organization. */
  keys: number;
  /** ISO 8601. */
  createdAt: string;
}

/** Every organization, oldest first, with its number of live keys (`tolk orgs list`). */
export async function listOrganizationsForOperator(db: Database): Promise<OperatorOrganization[]> {
  const orgs = await db.select().from(organizations).orderBy(asc(organizations.createdAt));
  const counts = await db
    .select({ organizationId: apiKeys.organizationId, n: count() })
    .from(apiKeys)
    .where(isNull(apiKeys.revokedAt))
    .groupBy(apiKeys.organizationId);
  const byOrg = new Map(counts.map((c) => [c.organizationId, Number(c.n)]));
  return orgs.map((o) => ({ id: o.id, name: o.name, tier: o.tier, keys: byOrg.get(o.id) ?? 0, createdAt: o.createdAt.toISOString() }));
}
