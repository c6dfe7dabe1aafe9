import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, organizations } from '../db/schema.js';

/** Roles of spec 000 ("owner/admin/member"). */
export type Role = 'owner' | 'admin' | 'member';

/** A key's identity once authenticated. */
export interface KeyPrincipal {
  keyId: string;
  organizationId: string;
  role: Role;
  mode: 'live' | 'test';
}

/** A newly created key: the only time `key` is ever available. */
export interface CreatedApiKey extends KeyPrincipal {
  key: string;
  name: string;
  organizationName: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomBase62(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    if (b < 248) out += BASE62[b % 62]; // 248 = 4 × 62: no modulo bias
  }
  return out.length === length ? out : randomBase62(length);
}

/** SHA-256 of a key, hex: what is stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A random id with a type prefix, e.g. `org_3k…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(20)}`;
}

/** True when `key` has the shape of a Tolk API key (`ip_live_…` or `ip_test_…`). */
export function looksLikeApiKey(key: string): boolean {
  return /^ip_(live|test)_[0-9A-Za-z]{32}$/.test(key);
}

/** Finds an organization by name, creating it when missing. */
export async function ensureOrganization(db: Database, name: string): Promise<{ id: string; name: string }> {
  const found = await db.select().from(organizations).where(eq(organizations.name, name)).limit(1);
  if (found[0]) return { id: found[0].id, name: found[0].name };
  const id = newId('org');
  await db.insert(organizations).values({ id, name }).onConflictDoNothing();
  const again = await db.select().from(organizations).where(eq(organizations.name, name)).limit(1);
  if (!again[0]) throw new Error(`could not create organization ${name}`);
  return { id: again[0].id, name: again[0].name };
}

/**
 * Creates an API key for an organization (made if missing). Only the hash is stored.
 * @returns the key in full: show it once.
 */
export async function createApiKey(
  db: Database,
  options: { organizationName: string; name?: string; role?: Role; test?: boolean },
): Promise<CreatedApiKey> {
  const org = await ensureOrganization(db, options.organizationName);
  const mode = options.test ? 'test' : 'live';
  const key = `ip_${mode}_${randomBase62(32)}`;
  const id = newId('key');
  const role = options.role ?? 'member';
  const name = options.name ?? 'default';
  await db.insert(apiKeys).values({
    id, organizationId: org.id, name, role, mode, prefix: `${key.slice(0, 12)}…`, keyHash: hashApiKey(key),
  });
  return { keyId: id, organizationId: org.id, organizationName: org.name, role, mode, key, name };
}

/**
 * Resolves a presented key to its principal, or undefined when it is malformed, unknown or revoked.
 * The stored hash is compared in constant time; `last_used_at` is updated.
 */
export async function authenticateApiKey(db: Database, key: string): Promise<KeyPrincipal | undefined> {
  if (!looksLikeApiKey(key)) return undefined;
  const hash = hashApiKey(key);
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (!row || !timingSafeEqual(Buffer.from(row.keyHash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  return { keyId: row.id, organizationId: row.organizationId, role: row.role, mode: row.mode };
}

/** Number of keys in the database (0 on a fresh install). */
export async function countApiKeys(db: Database): Promise<number> {
  const rows = await db.select({ id: apiKeys.id }).from(apiKeys).limit(1);
  return rows.length;
}

/** A key as listed (spec 000 `GET /api/api-keys`): never the key itself. */
export interface ListedApiKey {
  id: string;
  name: string;
  keyPrefix: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The keys of an organization, oldest first. */
export async function listApiKeys(db: Database, organizationId: string): Promise<ListedApiKey[]> {
  const rows = await db.select().from(apiKeys).where(and(eq(apiKeys.organizationId, organizationId), isNull(apiKeys.revokedAt))).orderBy(apiKeys.createdAt);
  return rows.map((r) => ({ id: r.id, name: r.name, keyPrefix: `ip_${r.mode}_••••`, role: r.role, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt }));
}

/**
 * Creates a key in an existing organization (spec 000 `POST /api/api-keys`).
 * @returns the key in full: show it once.
 */
export async function createOrganizationKey(
  db: Database,
  options: { organizationId: string; name: string; role: Role; test: boolean },
): Promise<{ id: string; name: string; key: string; role: Role }> {
  const mode = options.test ? 'test' : 'live';
  const key = `ip_${mode}_${randomBase62(32)}`;
  const id = newId('key');
  await db.insert(apiKeys).values({
    id, organizationId: options.organizationId, name: options.name, role: options.role, mode, prefix: `${key.slice(0, 12)}…`, keyHash: hashApiKey(key),
  });
  return { id, name: options.name, key, role: options.role };
}

/**
 * Replaces a key's secret (spec 000 `POST /api/api-keys/:id/rotate`): same id, name and role, a new
 * key; the old one is rejected from this moment.
 * @returns undefined when the organization has no such key.
 */
export async function rotateApiKey(db: Database, organizationId: string, keyId: string): Promise<{ id: string; name: string; key: string } | undefined> {
  const rows = await db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.organizationId, organizationId), isNull(apiKeys.revokedAt))).limit(1);
  const row = rows[0];
  if (!row) return undefined;
  const key = `ip_${row.mode}_${randomBase62(32)}`;
  await db.update(apiKeys).set({ keyHash: hashApiKey(key), prefix: `${key.slice(0, 12)}…`, lastUsedAt: null }).where(eq(apiKeys.id, row.id));
  return { id: row.id, name: row.name, key };
}

/**
 * Deletes a key for good (spec 000 `DELETE /api/api-keys/:id`); requests with it are 401 at once.
 * @returns false when the organization has no such key.
 */
export async function deleteApiKey(db: Database, organizationId: string, keyId: string): Promise<boolean> {
  const deleted = await db.delete(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.organizationId, organizationId))).returning({ id: apiKeys.id });
  return deleted.length > 0;
}
