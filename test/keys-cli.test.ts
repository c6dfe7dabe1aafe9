import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { authenticateApiKey } from '../src/domain/api-keys.js';
import { startServer } from '../src/server.js';
import { closeTestEngines, testEngines } from './helpers.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

const CLI = path.resolve('src/cli/main.ts');

/** Runs the CLI in a child process (asynchronously: the server under test shares this event loop). */
async function runCli(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return stdout;
}

async function createKey(dataDir: string, org: string): Promise<{ id: string; key: string; org: string; role: string }> {
  return JSON.parse(await runCli(['keys', 'create', '--org', org, '--role', 'admin', '--json', '--data-dir', dataDir])) as { id: string; key: string; org: string; role: string };
}

it('tolk keys create works with and without a running server on the same data dir', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-keys-'));
  try {
    const offline = await createKey(dataDir, 'clinic');
    assert.match(offline.key, /^ip_live_[0-9A-Za-z]{32}$/);
    assert.deepEqual({ org: offline.org, role: offline.role }, { org: 'clinic', role: 'admin' });

    const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' }), { engines: await testEngines(), adminSocket: true });
    try {
      assert.equal(server.firstOwnerKey, undefined, 'a database with keys must not get another owner key');
      const online = await createKey(dataDir, 'call-centre');
      const res = await fetch(`${server.url}/v2/sdk/voice-translation/session/token`, { headers: { authorization: `api-key ${online.key}` } });
      assert.equal(res.status, 200);
      const res2 = await fetch(`${server.url}/v2/sdk/voice-translation/session/token`, { headers: { authorization: `api-key ${offline.key}` } });
      assert.equal(res2.status, 200);

      // `tolk keys grant`: the clinic's key may then open sessions for the call centre too.
      const session = (orgId: string) => fetch(`${server.url}/api/sessions`, {
        method: 'POST', headers: { authorization: `Bearer ${offline.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ source_lang: 'en', target_lang: 'es', organization_id: orgId }),
      });
      const callCentre = await authenticateApiKey(server.ctx.db, online.key);
      assert.ok(callCentre);
      assert.equal((await session(callCentre.organizationId)).status, 403, 'not a member yet');
      const granted = await runCli(['keys', 'grant', offline.id, '--org', 'call-centre', '--role', 'member', '--json', '--data-dir', dataDir]);
      assert.deepEqual(JSON.parse(granted), { key_id: offline.id, org: 'call-centre', organization_id: callCentre.organizationId, role: 'member' });
      assert.equal((await session(callCentre.organizationId)).status, 200);
    } finally {
      await server.close();
    }
    const db = await openDatabase({ dataDir });
    try {
      assert.ok(await authenticateApiKey(db.db, offline.key));
      const last = offline.key.slice(-1);
      assert.equal(await authenticateApiKey(db.db, `${offline.key.slice(0, -1)}${last === 'x' ? 'y' : 'x'}`), undefined);
    } finally {
      await db.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    const engines = await testEngines();
    await engines.mt.close();
    await engines.stt.close();
  }
});
