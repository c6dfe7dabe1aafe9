import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { secureDataDir } from '../../db/data-dir.js';
import { getOrganizationAdmission, parseAdmissionChanges, setOrganizationAdmission } from '../../domain/admission.js';
import { createApiKey, type Role } from '../../domain/api-keys.js';
import { grantMembership } from '../../domain/memberships.js';
import { listKeysForOperator, listOrganizationsForOperator, revokeKeyForOperator } from '../../domain/operator.js';

/** Largest admin request body read, in characters. */
const MAX_BODY_CHARS = 10_000;

/** Path of the local admin socket through which `tolk keys …` and `tolk orgs …` reach a running server. */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, 'admin.sock');
}

type AdminHandler = (ctx: AppContext, body: Record<string, unknown>) => Promise<object>;

/** `POST <path>` → what it does; bodies are the CLI's own (src/cli/admin-socket.ts), checked by the domain. */
const ADMIN_ROUTES: Record<string, AdminHandler> = {
  '/keys': (ctx, o) => createApiKey(ctx.db, { organizationName: String(o.org), name: o.name as string | undefined, role: o.role as Role | undefined, test: o.test === true }),
  '/keys/list': async (ctx, o) => ({ keys: await listKeysForOperator(ctx.db, o.org as string | undefined) }),
  '/keys/revoke': async (ctx, o) => {
    const keyId = String(o.keyId);
    const revoked = await revokeKeyForOperator(ctx.db, keyId);
    // What the key stands behind ends now, as for a key deleted through the API.
    await ctx.sessionKeys.ledger.clear(keyId);
    await ctx.sessions.disconnectKey(keyId, 'deleted');
    return revoked;
  },
  '/memberships': (ctx, o) => grantMembership(ctx.db, { apiKeyId: String(o.keyId), organizationName: String(o.org), role: o.role as Role }),
  // `tolk orgs set` sends `changes`; `tolk orgs show` does not (and creates nothing).
  '/orgs': (ctx, o) => o.changes === undefined
    ? getOrganizationAdmission(ctx.db, String(o.org))
    : setOrganizationAdmission(ctx.db, String(o.org), parseAdmissionChanges(o.changes)),
  '/orgs/list': async (ctx) => ({ organizations: await listOrganizationsForOperator(ctx.db) }),
  '/status': async () => ({ pid: process.pid }),
};

/**
 * Serves the CLI's requests ({@link ADMIN_ROUTES}: keys create/list/revoke/grant, orgs set/show/list)
 * on a Unix socket in the data dir (mode 0600), so the commands work while the server holds the
 * embedded database. Only local users with access to the data dir can reach it. Answers 200 with
 * the JSON result, or 400 `{"error": message}`.
 * @throws {Error} when the socket cannot be created.
 */
export async function listenAdmin(ctx: AppContext, dataDir: string): Promise<http.Server> {
  const socketPath = adminSocketPath(dataDir);
  secureDataDir(dataDir); // with DATABASE_URL nothing else creates it
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body = (body + c).slice(0, MAX_BODY_CHARS)));
    req.on('end', () => {
      const handler = req.method === 'POST' ? ADMIN_ROUTES[req.url ?? ''] : undefined;
      void (async () => {
        try {
          if (!handler) throw new Error('unknown admin request');
          const answer = await handler(ctx, (body ? JSON.parse(body) : {}) as Record<string, unknown>);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  server.unref();
  return server;
}
