import { randomBytes } from 'node:crypto';
import type { StateStore } from '../state/store.js';
import type { KeyPrincipal } from './api-keys.js';

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
}

/** A resolved session key: the principal it stands for and, for a session's `streamToken`, its binding. */
export interface SessionKeyGrant extends KeyPrincipal {
  binding?: SessionBinding | undefined;
}

/**
 * Issues a short-lived session key standing for an API key's principal; it opens `/vt` streams
 * until it expires. With `binding`, the streams it opens belong to that session and participant.
 * @param ttlS - lifetime in seconds (validated by the caller).
 */
export async function issueSessionKey(store: StateStore, principal: KeyPrincipal, ttlS: number, binding?: SessionBinding): Promise<IssuedSessionKey> {
  const sessionKey = `vt_${randomBytes(24).toString('base64url')}`;
  const grant: SessionKeyGrant = {
    keyId: principal.keyId, organizationId: principal.organizationId, role: principal.role, mode: principal.mode,
    ...(binding ? { binding } : {}),
  };
  await store.set(PREFIX + sessionKey, JSON.stringify(grant), ttlS * 1000);
  return { sessionKey, expiresAt: new Date(Date.now() + ttlS * 1000) };
}

/** The grant of a live session key, or undefined when unknown or expired. */
export async function resolveSessionKey(store: StateStore, sessionKey: string): Promise<SessionKeyGrant | undefined> {
  if (!sessionKey.startsWith('vt_')) return undefined;
  const raw = await store.get(PREFIX + sessionKey);
  return raw ? (JSON.parse(raw) as SessionKeyGrant) : undefined;
}
