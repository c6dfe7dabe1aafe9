import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Creates the embedded database's cluster in `pgdataDir` (PGlite's `initdb`) on a thread of its
 * own when the directory holds none yet (no `PG_VERSION`), so the process that then opens it does
 * not keep the memory `initdb` grew: PGlite's WebAssembly memory never shrinks, and a cluster
 * created in the serving process left its memory at ~630 MB instead of the ~200 MB of a cluster
 * opened afresh (measured with `node --import tsx bench/idle-memory.ts`; docs/deploy.md "Memory").
 * The thread's memory is given back when it exits.
 * @param pgdataDir - the cluster's directory (`<TOLK_DATA_DIR>/pgdata`).
 * @throws {Error} when the thread fails to create the cluster.
 */
export async function initPgliteCluster(pgdataDir: string): Promise<void> {
  if (fs.existsSync(path.join(pgdataDir, 'PG_VERSION'))) return;
  const lib = import.meta.resolve('@electric-sql/pglite');
  const code = `const { workerData } = require('node:worker_threads');
    import(${JSON.stringify(lib)}).then(async ({ PGlite }) => {
      const db = new PGlite(workerData);
      await db.waitReady;
      await db.close();
    });`;
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: pgdataDir });
    let failure: Error | undefined;
    worker.once('error', (err) => (failure = err));
    worker.once('exit', (exitCode) => {
      if (exitCode === 0 && !failure) resolve();
      else reject(new Error(`creating the embedded database in ${pgdataDir} failed: ${failure?.message ?? `exit code ${exitCode}`}`));
    });
  });
}
