import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { initPgliteCluster } from './pglite-init.js';

describe('the embedded database cluster', () => {
  it('is created on a thread of its own: the process that opens it does not hold initdb\'s memory', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-pglite-init-'));
    try {
      const pgdata = path.join(dir, 'pgdata');
      const externalBefore = process.memoryUsage().external;
      await initPgliteCluster(pgdata);
      assert.ok(fs.existsSync(path.join(pgdata, 'PG_VERSION')), 'no cluster was created');
      const grownMb = (process.memoryUsage().external - externalBefore) / 2 ** 20;
      assert.ok(grownMb < 50, `this thread's external memory grew by ${grownMb.toFixed(0)} MB`);
      const db = new PGlite(pgdata);
      try {
        assert.deepEqual((await db.query<{ one: number }>('select 1 as one')).rows, [{ one: 1 }]);
      } finally {
        await db.close();
      }
      await initPgliteCluster(pgdata); // an existing cluster is left as it is
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
