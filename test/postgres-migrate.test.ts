import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { openDatabase, SchemaOutdatedError, expectedMigrations } from '../src/db/client.js';
import { createScratchDatabase, testPostgresUrl } from './helpers.js';

const pgUrl = testPostgresUrl();

describe('Postgres schema: tolk migrate, and servers refuse an older schema', { skip: pgUrl ? false : 'no TOLK_TEST_DATABASE_URL (make test sets it when Postgres answers)' }, () => {
  it('refuses an unmigrated database, migrates it with `tolk migrate`, then opens it', async () => {
    const scratch = await createScratchDatabase(pgUrl ?? '', { migrate: false });
    try {
      await assert.rejects(openDatabase({ dataDir: 'memory://', databaseUrl: scratch.url }), (err: unknown) => {
        assert.ok(err instanceof SchemaOutdatedError);
        assert.match(err.message, new RegExp(`0 of ${expectedMigrations().length} migrations applied.*tolk migrate`));
        return true;
      });
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: scratch.url },
      });
      assert.match(stdout, new RegExp(`schema up to date on postgres: ${expectedMigrations().length} migrations`));
      const handle = await openDatabase({ dataDir: 'memory://', databaseUrl: scratch.url });
      await handle.close();
      // A serve process against it starts (no SchemaOutdatedError) — the check ran on a migrated schema.
      assert.equal(handle.kind, 'postgres');
    } finally {
      await scratch.drop();
    }
  });
});
