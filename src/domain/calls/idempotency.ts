import { createHash } from 'node:crypto';
import { and, count, eq, lt } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { callIdempotencyKeys } from '../../db/schema.js';

/** How long an `Idempotency-Key` and its response are kept: 24 h (vendor docs "Idempotency"). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a claim of a running request holds without a heartbeat, in ms (`TOLK_IDEMPOTENCY_LEASE_MS`
 * default): the owner extends it every third of it, so a claim whose process died is free for a
 * retry within this, not after 24 h.
 */
export const IDEMPOTENCY_LEASE_MS = 15_000;
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
  | { kind: 'owner'; lease: IdempotencyLease }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' }
  | { kind: 'too_many'; limit: number };

/**
 * The owner's hold on a key: the claim's creation time tells it from a later claim of the same key
 * (after this one's lease ran out), so a late owner never overwrites another's response.
 */
export interface IdempotencyLease {
  organizationId: string;
  key: string;
  claimedAt: Date;
}

/** Options of {@link claimIdempotencyKey}. */
export interface ClaimOptions {
  /** Lease of the claim while its request runs, in ms; default {@link IDEMPOTENCY_LEASE_MS}. */
  leaseMs?: number;
  /** Keys an organization may hold at once (live ones); past it the claim is `too_many`. */
  maxKeysPerOrganization?: number;
  /** The current time (tests). */
  now?: Date;
}

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
 * one of any number of racing requests the owner — on PGlite and on Postgres alike. The claim is a
 * lease of `leaseMs` the owner keeps with {@link renewIdempotencyLease}; a key whose lease or 24 h
 * ran out is forgotten first, so a request whose process died can be retried.
 */
export async function claimIdempotencyKey(db: Database, organizationId: string, key: string, route: string, hash: string, options: ClaimOptions = {}): Promise<IdempotencyClaim> {
  const now = options.now ?? new Date();
  const mine = and(eq(callIdempotencyKeys.organizationId, organizationId), eq(callIdempotencyKeys.key, key));
  await db.delete(callIdempotencyKeys).where(and(mine, lt(callIdempotencyKeys.expiresAt, now)));
  if (options.maxKeysPerOrganization !== undefined) {
    const held = (await db.select({ n: count() }).from(callIdempotencyKeys).where(eq(callIdempotencyKeys.organizationId, organizationId)))[0]?.n ?? 0;
    if (held >= options.maxKeysPerOrganization) {
      const existing = await inspectIdempotencyKey(db, organizationId, key, route, hash);
      return existing.kind === 'in_progress' ? { kind: 'too_many', limit: options.maxKeysPerOrganization } : existing;
    }
  }
  const inserted = await db.insert(callIdempotencyKeys)
    .values({ organizationId, key, route, requestHash: hash, state: 'in_progress', createdAt: now, expiresAt: new Date(now.getTime() + (options.leaseMs ?? IDEMPOTENCY_LEASE_MS)) })
    .onConflictDoNothing()
    .returning({ key: callIdempotencyKeys.key });
  if (inserted.length > 0) return { kind: 'owner', lease: { organizationId, key, claimedAt: now } };
  return inspectIdempotencyKey(db, organizationId, key, route, hash);
}

function leaseWhere(lease: IdempotencyLease) {
  return and(eq(callIdempotencyKeys.organizationId, lease.organizationId), eq(callIdempotencyKeys.key, lease.key), eq(callIdempotencyKeys.createdAt, lease.claimedAt));
}

/** Extends a running request's claim by `leaseMs` from now (its heartbeat); false when the claim is gone. */
export async function renewIdempotencyLease(db: Database, lease: IdempotencyLease, leaseMs = IDEMPOTENCY_LEASE_MS): Promise<boolean> {
  const rows = await db.update(callIdempotencyKeys).set({ expiresAt: new Date(Date.now() + leaseMs) })
    .where(and(leaseWhere(lease), eq(callIdempotencyKeys.state, 'in_progress'))).returning({ key: callIdempotencyKeys.key });
  return rows.length > 0;
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

/** Stores the owner's response under the key, for replays, kept {@link IDEMPOTENCY_TTL_MS} from its claim. */
export async function completeIdempotencyKey(db: Database, lease: IdempotencyLease, response: StoredResponse): Promise<void> {
  await db.update(callIdempotencyKeys)
    .set({ state: 'completed', responseStatus: response.status, responseBody: JSON.stringify(response.body), expiresAt: new Date(lease.claimedAt.getTime() + IDEMPOTENCY_TTL_MS) })
    .where(leaseWhere(lease));
}

/** Forgets a key whose request failed on the server's side (5xx), so a retry runs again. */
export async function releaseIdempotencyKey(db: Database, lease: IdempotencyLease): Promise<void> {
  await db.delete(callIdempotencyKeys).where(leaseWhere(lease));
}

/** Deletes every key past its 24 h (run now and then; each claim also forgets its own expired key). */
export async function purgeExpiredIdempotencyKeys(db: Database, now = new Date()): Promise<number> {
  const rows = await db.delete(callIdempotencyKeys).where(lt(callIdempotencyKeys.expiresAt, now)).returning({ key: callIdempotencyKeys.key });
  return rows.length;
}
