import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { SessionKeyLedger } from '../state/session-key-ledger.js';
import type { StateStore } from '../state/store.js';
import { currentKeyPrincipal, type KeyPrincipal } from './api-keys.js';

const PREFIX = 'session-key:';

/** A session key issued by the token endpoint (spec 002 Part 1 "Session key generation"). */
export interface IssuedSessionKey {
  sessionKey: string;
  expiresAt: Date;
}

/**
 * What a `vt_` key bound to a platform session (spec 000 `POST /api/sessions`, `streamToken`)
 * carries beyond its principal: the streams it opens belong to that session and participant.
 */
export interface SessionBinding {
  /** The organization the session belongs to (may differ from the key's home organization). */
  organizationId: string;
  /** `sess_…` */
  sessionId: string;
  /** `usr_…`, the participant the stream speaks for. */
  participantId: string;
  /**
   * Which of the session's languages the participant speaks (default `source`). `target`: the
   * stream translates the session's pair backwards, target → source — a phone callee of the
   * session (docs/phone.md "Twilio"). Only set by Tolk itself, never by a token a client holds.
   */
  speaks?: 'source' | 'target' | undefined;
}

/**
 * A resolved session key: the principal of the API key that issued it — with that key's
 * fingerprint at issuance, so a rotation or deletion ends it — and, for a session's `streamToken`,
 * its binding.
 */
export interface SessionKeyGrant extends KeyPrincipal {
  binding?: SessionBinding | undefined;
}

/** Where session keys live and how many one API key may hold (`TOLK_MAX_SESSION_KEYS_PER_KEY`). */
export interface SessionKeyIssuer {
  store: StateStore;
  ledger: SessionKeyLedger;
  /** Live session keys one API key may hold, whatever issued them (token endpoint, sessions). */
  maxPerKey: number;
}

/**
 * A session key whose place under its API key's limit is taken but which opens nothing until
 * {@link SessionKeyReservation.activate} stores its grant (e.g. once the session it belongs to exists).
 */
export interface SessionKeyReservation extends IssuedSessionKey {
  /** Stores the grant: from now the key opens `/vt` streams, bound to `binding` when given. */
  activate(binding?: SessionBinding): Promise<void>;
}

/** The digest a session key is counted under in the ledger (the key itself is never stored there). */
function ledgerMember(sessionKey: string): string {
  return createHash('sha256').update(sessionKey, 'utf8').digest('base64url').slice(0, 22);
}

/**
 * Reserves a short-lived session key standing for an API key's principal, under the limit of live
 * session keys per API key.
 * @param ttlS - lifetime in seconds (validated by the caller).
 * @returns the reservation, or undefined when the API key already holds `maxPerKey` live session keys.
 * @throws {Error} when the state store fails.
 */
export async function reserveSessionKey(issuer: SessionKeyIssuer, principal: KeyPrincipal, ttlS: number): Promise<SessionKeyReservation | undefined> {
  const sessionKey = `vt_${randomBytes(24).toString('base64url')}`;
  const ttlMs = ttlS * 1000;
  if (!(await issuer.ledger.tryAdd(principal.keyId, ledgerMember(sessionKey), ttlMs, issuer.maxPerKey))) return undefined;
  return {
    sessionKey,
    expiresAt: new Date(Date.now() + ttlMs),
    activate: async (binding) => {
      const grant: SessionKeyGrant = {
        keyId: principal.keyId, organizationId: principal.organizationId, role: principal.role, mode: principal.mode,
        keyFingerprint: principal.keyFingerprint, ...(binding ? { binding } : {}),
      };
      await issuer.store.set(PREFIX + sessionKey, JSON.stringify(grant), ttlMs);
    },
  };
}

/**
 * Issues a short-lived session key standing for an API key's principal (spec 002 Part 1); it opens
 * `/vt` streams until it expires or its API key is rotated or deleted. With `binding`, the streams
 * it opens belong to that session and participant.
 * @param ttlS - lifetime in seconds (validated by the caller).
 * @returns the key, or undefined when the API key already holds `maxPerKey` live session keys.
 * @throws {Error} when the state store fails.
 */
export async function issueSessionKey(issuer: SessionKeyIssuer, principal: KeyPrincipal, ttlS: number, binding?: SessionBinding): Promise<IssuedSessionKey | undefined> {
  const reserved = await reserveSessionKey(issuer, principal, ttlS);
  if (!reserved) return undefined;
  await reserved.activate(binding);
  return { sessionKey: reserved.sessionKey, expiresAt: reserved.expiresAt };
}

/**
 * The grant of a live session key as stored, without checking its API key: undefined when unknown,
 * expired, or issued before grants carried a key fingerprint (such keys are no longer honoured).
 * Prefer {@link resolveSessionKey}.
 */
export async function readSessionKey(store: StateStore, sessionKey: string): Promise<SessionKeyGrant | undefined> {
  if (!sessionKey.startsWith('vt_')) return undefined;
  const raw = await store.get(PREFIX + sessionKey);
  if (!raw) return undefined;
  const grant = JSON.parse(raw) as Partial<SessionKeyGrant>;
  return typeof grant.keyFingerprint === 'string' && typeof grant.keyId === 'string' ? (grant as SessionKeyGrant) : undefined;
}

/**
 * Whether the API key that issued `grant` still stands behind it: the key exists, is not revoked
 * and was not rotated since (its stored hash has the grant's fingerprint). One primary-key query.
 * @returns the grant with the key's current role and mode, or undefined when the key is gone.
 * @throws {Error} when the database fails.
 */
export async function confirmGrant(db: Database, grant: SessionKeyGrant): Promise<SessionKeyGrant | undefined> {
  const key = await currentKeyPrincipal(db, grant.keyId, grant.keyFingerprint);
  return key ? { ...key, binding: grant.binding } : undefined;
}

/**
 * The grant of a live session key, or undefined when unknown, expired, or when the API key that
 * issued it was deleted or rotated since (docs/stream-protocol.md "Revocation").
 * @throws {Error} when the state store or the database fails.
 */
export async function resolveSessionKey(store: StateStore, db: Database, sessionKey: string): Promise<SessionKeyGrant | undefined> {
  const grant = await readSessionKey(store, sessionKey);
  return grant ? confirmGrant(db, grant) : undefined;
}
