import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { callIdempotencyKeys } from '../../db/schema.js';

/** How long an `Idempotency-Key` and its response are kept: 24 h (vendor docs "Idempotency"). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Longest accepted key, in characters (Stripe's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** A response stored under a key, replayed byte for byte to a retry. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/**
 * What {@link claimIdempotencyKey} found: `owner` — this request runs and must {@link completeIdempotencyKey}
 * (or {@link releaseIdempotencyKey}); `replay` — a finished request with the same body; `mismatch` —
 * the key was used with another body or route; `in_progress` — the first request is still running.
 */
export type IdempotencyClaim =
  | { kind: 'owner' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' };

/**
 * SHA-256 of a request: its route and its JSON body with keys sorted, so the same fields in another
 * order count as the same request.
 */
export function requestHash(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Claims `key` for a request of `organizationId`: the primary key (organization, key) makes exactly
 * one of any number of racing requests the owner — on PGlite and on Postgres alike. A key older
 * than {@link IDEMPOTENCY_TTL_MS} is forgotten first.
 */
export async function claimIdempotencyKey(db: Database, organizationId: string, key: string, route: string, hash: string): Promise<IdempotencyClaim> {
  const now = new Date();
  await db.delete(callIdempotencyKeys).where(and(eq(callIdempotencyKeys.organizationId, organizationId), eq(callIdempotencyKeys.key, key), lt(callIdempotencyKeys.expiresAt, now)));
  const inserted = await db.insert(callIdempotencyKeys)
    .values({ organizationId, key, route, requestHash: hash, state: 'in_progress', expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS) })
    .onConflictDoNothing()
    .returning({ key: callIdempotencyKeys.key });
  if (inserted.length > 0) return { kind: 'owner' };
  return inspectIdempotencyKey(db, organizationId, key, route, hash);
}

/** What a key holds for a request that did not claim it (see {@link IdempotencyClaim}). */
export async function inspectIdempotencyKey(db: Database, organizationId: string, key: string, route: string, hash: string): Promise<IdempotencyClaim> {
  const rows = await db.select().from(callIdempotencyKeys).where(and(eq(callIdempotencyKeys.organizationId, organizationId), eq(callIdempotencyKeys.key, key))).limit(1);
  const row = rows[0];
  if (!row) return { kind: 'in_progress' }; // released meanwhile: the caller may retry
  if (row.route !== route || row.requestHash !== hash) return { kind: 'mismatch' };
  if (row.state === 'completed' && row.responseStatus !== null) return { kind: 'replay', response: { status: row.responseStatus, body: JSON.parse(row.responseBody ?? 'null') as unknown } };
  return { kind: 'in_progress' };
}

/** Stores the owner's response under the key, for replays. */
export async function completeIdempotencyKey(db: Database, organizationId: string, key: string, response: StoredResponse): Promise<void> {
  await db.update(callIdempotencyKeys)
    .set({ state: 'completed', responseStatus: response.status, responseBody: JSON.stringify(response.body) })
    .where(and(eq(callIdempotencyKeys.organizationId, organizationId), eq(callIdempotencyKeys.key, key)));
}

/** Forgets a key whose request failed on the server's side (5xx), so a retry runs again. */
export async function releaseIdempotencyKey(db: Database, organizationId: string, key: string): Promise<void> {
  await db.delete(callIdempotencyKeys).where(and(eq(callIdempotencyKeys.organizationId, organizationId), eq(callIdempotencyKeys.key, key)));
}

/** Deletes every key past its 24 h (run now and then; each claim also forgets its own expired key). */
export async function purgeExpiredIdempotencyKeys(db: Database, now = new Date()): Promise<number> {
  const rows = await db.delete(callIdempotencyKeys).where(lt(callIdempotencyKeys.expiresAt, now)).returning({ key: callIdempotencyKeys.key });
  return rows.length;
}
