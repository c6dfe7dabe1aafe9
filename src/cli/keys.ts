import { createApiKey, type CreatedApiKey, type Role } from '../domain/api-keys.js';
import { grantMembership } from '../domain/memberships.js';
import { listKeysForOperator, revokeKeyForOperator, type OperatorKey } from '../domain/operator.js';
import { viaServerOrDatabase, type CliTarget } from './target.js';

const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

/**
 * `tolk keys create`: through the running server's admin socket when there is one (the embedded
 * database allows one process), otherwise directly in the database; says which on stderr.
 * @throws {Error} for an unknown role or when neither path works.
 */
export async function keysCreateCommand(
  target: CliTarget,
  o: { org: string; name: string; role: string; test?: boolean; json?: boolean },
): Promise<void> {
  if (!ROLES.includes(o.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const request = { org: o.org, name: o.name, role: o.role as Role, test: Boolean(o.test) };
  const created = await viaServerOrDatabase<CreatedApiKey>(target, '/keys', request, (db) =>
    createApiKey(db, { organizationName: o.org, name: o.name, role: request.role, test: request.test }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ id: created.keyId, key: created.key, org: created.organizationName, role: created.role })}\n`);
  } else {
    process.stdout.write(`Created ${created.role} key "${created.name}" for organization ${created.organizationName} (shown once):\n${created.key}\n`);
  }
}

/**
 * `tolk keys grant`: lets a key act in another organization (created if missing) with a role there,
 * so `organization_id` on `POST /api/sessions` can name it (spec 000). Through the running server's
 * admin socket when there is one, otherwise directly in the database.
 * @throws {Error} for an unknown role or key.
 */
export async function keysGrantCommand(target: CliTarget, keyId: string, o: { org: string; role: string; json?: boolean }): Promise<void> {
  if (!ROLES.includes(o.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const request = { keyId, org: o.org, role: o.role as Role };
  type Granted = Awaited<ReturnType<typeof grantMembership>>;
  const granted = await viaServerOrDatabase<Granted>(target, '/memberships', request, (db) =>
    grantMembership(db, { apiKeyId: keyId, organizationName: o.org, role: request.role }));
  if (o.json) process.stdout.write(`${JSON.stringify({ key_id: keyId, org: granted.organizationName, organization_id: granted.organizationId, role: granted.role })}\n`);
  else process.stdout.write(`Key ${keyId} is now ${granted.role} of organization ${granted.organizationName} (${granted.organizationId})\n`);
}

/**
 * `tolk keys list [--org]`: every live key (or one organization's) with its name, role and hint
 * (`ip_live_Ab3x…`), never the key.
 * @throws {Error} for an unknown organization.
 */
export async function keysListCommand(target: CliTarget, o: { org?: string; json?: boolean }): Promise<void> {
  const { keys } = await viaServerOrDatabase<{ keys: OperatorKey[] }>(target, '/keys/list', { org: o.org }, async (db) => ({ keys: await listKeysForOperator(db, o.org) }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(keys)}\n`);
    return;
  }
  if (keys.length === 0) {
    process.stdout.write('no API keys\n');
    return;
  }
  const rows = [['ID', 'KEY', 'ORGANIZATION', 'ROLE', 'NAME', 'LAST USED'], ...keys.map((k) => [k.id, k.hint, k.organizationName, k.role, k.name, k.lastUsedAt ?? 'never'])];
  process.stdout.write(table(rows));
}

/**
 * `tolk keys revoke <keyId>`: the key and the session keys it issued are refused from now on; a
 * running server also ends its live streams.
 * @throws {Error} when there is no such live key.
 */
export async function keysRevokeCommand(target: CliTarget, keyId: string, o: { json?: boolean }): Promise<void> {
  const revoked = await viaServerOrDatabase<OperatorKey>(target, '/keys/revoke', { keyId }, (db) => revokeKeyForOperator(db, keyId));
  if (o.json) process.stdout.write(`${JSON.stringify({ id: revoked.id, revoked: true })}\n`);
  else process.stdout.write(`Revoked ${revoked.role} key "${revoked.name}" (${revoked.hint}) of organization ${revoked.organizationName}\n`);
}

/** Rows as left-aligned columns, two spaces apart, one line each. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}
