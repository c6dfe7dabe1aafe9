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
 * Issues a short-lived session key standing for an API key's principal; it opens `/vt` streams
 * until it expires.
 * @param ttlS - lifetime in seconds (validated by the caller).
 */
export async function issueSessionKey(store: StateStore, principal: KeyPrincipal, ttlS: number): Promise<IssuedSessionKey> {
  const sessionKey = `vt_${randomBytes(24).toString('base64url')}`;
  await store.set(PREFIX + sessionKey, JSON.stringify(principal), ttlS * 1000);
  return { sessionKey, expiresAt: new Date(Date.now() + ttlS * 1000) };
}

/** The principal of a live session key, or undefined when unknown or expired. */
export async function resolveSessionKey(store: StateStore, sessionKey: string): Promise<KeyPrincipal | undefined> {
  if (!sessionKey.startsWith('vt_')) return undefined;
  const raw = await store.get(PREFIX + sessionKey);
  return raw ? (JSON.parse(raw) as KeyPrincipal) : undefined;
}
