import type { KeyPrincipal, Role } from './api-keys.js';

/** Rank of each role of spec 000 ("owner/admin/member"): a higher rank may do more. */
const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/** True when `role` is at least `required` (owner > admin > member). */
export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** A key as the policy sees it: its id, role and mode (`ip_live_` or `ip_test_`). */
export interface KeyTarget {
  id: string;
  role: Role;
  mode: 'live' | 'test';
}

/** What a key may do to another key of its organization (spec 000 "API Keys"). */
export type KeyAction = 'rotate' | 'delete';

/**
 * Why `actor` may not create a key of `role` and `mode` (spec 000 `POST /api/api-keys`), or
 * undefined when it may. A key creates keys up to its own role, and a test key creates test keys
 * only (docs/platform.md "Test mode").
 */
export function keyCreationRefusal(actor: KeyPrincipal, role: Role, mode: 'live' | 'test'): string | undefined {
  if (!roleAtLeast(actor.role, role)) return `A ${actor.role} key cannot create a ${role} key`;
  if (actor.mode === 'test' && mode === 'live') return 'A test key (ip_test_) can create test keys only; use a live key to create a live key';
  return undefined;
}

/**
 * Why `actor` may not `action` the key `target` of its organization, or undefined when it may
 * (docs/platform.md "Authentication and roles"):
 * - rotation needs owner or admin (spec 000); a member may delete its own key and no other;
 * - nobody acts on a key of a higher role than their own (an admin cannot rotate the owner's key
 *   and receive its new secret);
 * - a test key acts on test keys only (rotating a live key would hand it a live secret).
 * The last-owner rule (an organization keeps one owner key) needs the database: see `deleteApiKey`.
 */
export function keyActionRefusal(actor: KeyPrincipal, target: KeyTarget, action: KeyAction): string | undefined {
  const own = actor.keyId === target.id;
  if (action === 'rotate' && !roleAtLeast(actor.role, 'admin')) {
    return `Rotating an API key requires the admin role or higher; this key's role is ${actor.role}`;
  }
  if (actor.role === 'member' && !own) return 'A member key can delete only itself; ask an owner or admin to manage other keys';
  if (!roleAtLeast(actor.role, target.role)) return `A ${actor.role} key cannot ${action} a ${target.role} key`;
  if (actor.mode === 'test' && target.mode === 'live') return `A test key (ip_test_) cannot ${action} a live key`;
  return undefined;
}
