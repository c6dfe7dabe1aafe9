import type { TolkConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { createApiKey, type CreatedApiKey, type Role } from '../domain/api-keys.js';
import { grantMembership } from '../domain/memberships.js';
import { adminSocketPath } from '../server.js';
import { viaAdminSocket } from './admin-socket.js';

const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

/**
 * `tolk keys create`: through the running server's admin socket when there is one (the embedded
 * database allows one process), otherwise directly in the database.
 * @throws {Error} for an unknown role or when neither path works.
 */
export async function keysCreateCommand(
  config: TolkConfig,
  o: { org: string; name: string; role: string; test?: boolean; json?: boolean },
): Promise<void> {
  if (!ROLES.includes(o.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const request = { org: o.org, name: o.name, role: o.role as Role, test: Boolean(o.test) };
  let created = config.databaseUrl ? undefined : await viaAdminSocket<CreatedApiKey>(adminSocketPath(config.dataDir), '/keys', request);
  if (!created) {
    const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      created = await createApiKey(handle.db, { organizationName: o.org, name: o.name, role: request.role, test: request.test });
    } finally {
      await handle.close();
    }
  }
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
export async function keysGrantCommand(config: TolkConfig, keyId: string, o: { org: string; role: string; json?: boolean }): Promise<void> {
  if (!ROLES.includes(o.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const request = { keyId, org: o.org, role: o.role as Role };
  type Granted = Awaited<ReturnType<typeof grantMembership>>;
  let granted = config.databaseUrl ? undefined : await viaAdminSocket<Granted>(adminSocketPath(config.dataDir), '/memberships', request);
  if (!granted) {
    const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      granted = await grantMembership(handle.db, { apiKeyId: keyId, organizationName: o.org, role: request.role });
    } finally {
      await handle.close();
    }
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ key_id: keyId, org: granted.organizationName, organization_id: granted.organizationId, role: granted.role })}\n`);
  else process.stdout.write(`Key ${keyId} is now ${granted.role} of organization ${granted.organizationName} (${granted.organizationId})\n`);
}
