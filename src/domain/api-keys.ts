import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, count, eq, isNull, ne } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, organizations } from '../db/schema.js';

/** Roles of spec 000 ("owner/admin/member"). */
export type Role = 'owner' | 'admin' | 'member';

/** A key's identity once authenticated. */
export interface KeyPrincipal {
  keyId: string;
  organizationId: string;
  role: Role;
  /** `live` for `ip_live_` keys, `test` for `ip_test_` keys (docs/platform.md "Test mode"). */
  mode: 'live' | 'test';
  /**
   * {@link keyFingerprint} of the key's stored hash when it was authenticated: a rotation changes
   * it, so what the key issued (session keys) can tell that it was rotated away.
   */
  keyFingerprint: string;
}

/** A newly created key: the only time `key` is ever available. */
export interface CreatedApiKey extends Omit<KeyPrincipal, 'keyFingerprint'> {
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

/**
 * A fingerprint of a stored key hash (32 hex characters of its SHA-256): what a session key records
 * of the API key that issued it, without carrying the hash itself into the state store.
 */
export function keyFingerprint(keyHash: string): string {
  return createHash('sha256').update(keyHash, 'utf8').digest('hex').slice(0, 32);
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
  return { keyId: row.id, organizationId: row.organizationId, role: row.role, mode: row.mode, keyFingerprint: keyFingerprint(row.keyHash) };
}

/**
 * The principal of key `keyId` when it still exists, is not revoked and its stored hash still has
 * `fingerprint` (it was not rotated since), else undefined. One primary-key query; `last_used_at`
 * is left alone. Used to check what a key issued (session keys) against the key as it is now.
 */
export async function currentKeyPrincipal(db: Database, keyId: string, fingerprint: string): Promise<KeyPrincipal | undefined> {
  const rows = await db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).limit(1);
  const row = rows[0];
  if (!row) return undefined;
  const now = keyFingerprint(row.keyHash);
  if (now.length !== fingerprint.length || !timingSafeEqual(Buffer.from(now), Buffer.from(fingerprint))) return undefined;
  return { keyId: row.id, organizationId: row.organizationId, role: row.role, mode: row.mode, keyFingerprint: now };
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
  /**
   * What tells the key apart from the others without revealing it: its first four random
   * characters, e.g. `ip_live_Ab3x…` (as a key is shown once; {@link keyHint}).
   */
  keyHint: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The keys of an organization, oldest first. */
export async function listApiKeys(db: Database, organizationId: string): Promise<ListedApiKey[]> {
  const rows = await db.select().from(apiKeys).where(and(eq(apiKeys.organizationId, organizationId), isNull(apiKeys.revokedAt))).orderBy(apiKeys.createdAt);
  return rows.map((r) => ({
    id: r.id, name: r.name, keyPrefix: `ip_${r.mode}_••••`, keyHint: keyHint(r.prefix), role: r.role, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt,
  }));
}

/**
 * The displayable hint of a stored key prefix (`api_keys.prefix`, the key's first 12 characters and
 * `…`): `ip_live_Ab3x…`. Four base-62 characters leave 1 in 14.8 million keys sharing a hint; the
 * other 28 keep the key unguessable.
 */
export function keyHint(storedPrefix: string): string {
  return storedPrefix.endsWith('…') ? storedPrefix : `${storedPrefix.slice(0, 12)}…`;
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

/** A key of an organization as key management sees it (never its secret). */
export interface OrganizationKey {
  id: string;
  name: string;
  role: Role;
  mode: 'live' | 'test';
}

/**
 * Key `keyId` of organization `organizationId`, or undefined when the organization has no such live
 * key (another organization's id is indistinguishable from an unknown one).
 */
export async function findOrganizationKey(db: Database, organizationId: string, keyId: string): Promise<OrganizationKey | undefined> {
  const rows = await db
    .select({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, mode: apiKeys.mode })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.organizationId, organizationId), isNull(apiKeys.revokedAt)))
    .limit(1);
  return rows[0];
}

/**
 * Replaces a key's secret (spec 000 `POST /api/api-keys/:id/rotate`): same id, name, role and mode,
 * a new key; the old one — and every session key it issued — is rejected from this moment. Who may
 * rotate which key is `keyActionRefusal`'s business (checked by the caller).
 * @returns undefined when the organization has no such key.
 */
export async function rotateApiKey(db: Database, organizationId: string, keyId: string): Promise<{ id: string; name: string; key: string } | undefined> {
  const row = await findOrganizationKey(db, organizationId, keyId);
  if (!row) return undefined;
  const key = `ip_${row.mode}_${randomBase62(32)}`;
  await db.update(apiKeys).set({ keyHash: hashApiKey(key), prefix: `${key.slice(0, 12)}…`, lastUsedAt: null }).where(eq(apiKeys.id, row.id));
  return { id: row.id, name: row.name, key };
}

/** The outcome of {@link deleteApiKey}. */
export type DeleteKeyResult = 'deleted' | 'not-found' | 'last-owner';

/**
 * Deletes a key for good (spec 000 `DELETE /api/api-keys/:id`); requests with it, and the session
 * keys it issued, are 401 at once. An organization never loses its last owner key, nor its last
 * live owner key (test keys cannot manage live keys): deleting it is refused (`last-owner`). The organization's row is locked for the check, so two concurrent
 * deletions of its last two owner keys cannot both succeed. Who may delete which key is
 * `keyActionRefusal`'s business (checked by the caller).
 * @returns `not-found` when the organization has no such key.
 */
export async function deleteApiKey(db: Database, organizationId: string, keyId: string): Promise<DeleteKeyResult> {
  return db.transaction(async (tx) => {
    await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId)).for('update');
    const rows = await tx.select({ role: apiKeys.role, mode: apiKeys.mode }).from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.organizationId, organizationId))).limit(1);
    const target = rows[0];
    if (!target) return 'not-found';
    if (target.role === 'owner') {
      // A live owner key is replaced only by another live one: test keys cannot manage live keys.
      const others = await tx
        .select({ n: count() })
        .from(apiKeys)
        .where(and(
          eq(apiKeys.organizationId, organizationId), eq(apiKeys.role, 'owner'), isNull(apiKeys.revokedAt), ne(apiKeys.id, keyId),
          target.mode === 'live' ? eq(apiKeys.mode, 'live') : undefined,
        ));
      if ((others[0]?.n ?? 0) === 0) return 'last-owner';
    }
    await tx.delete(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.organizationId, organizationId)));
    return 'deleted';
  });
}
