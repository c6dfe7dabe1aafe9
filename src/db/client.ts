import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { secureDataDir } from './data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import { initPgliteCluster } from './pglite-init.js';
import * as schema from './schema.js';

/** The drizzle database, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database and how to close it. */
export interface DatabaseHandle {
  db: Database;
  /** `pglite` (embedded, in the data dir or in memory) or `postgres` (`DATABASE_URL`). */
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/** The committed migrations (drizzle-kit output), beside `src/` and `dist/`. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** The migrations this code expects, from drizzle-kit's journal (`drizzle/meta/_journal.json`). */
export function expectedMigrations(): Array<{ tag: string; createdAtMs: number }> {
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string; when: number }> };
  return journal.entries.map((e) => ({ tag: e.tag, createdAtMs: e.when }));
}

/** Thrown when a Postgres schema is older than the code: run `tolk migrate` (docs/architecture.md "Processes"). */
export class SchemaOutdatedError extends Error {
  constructor(applied: number, expected: number) {
    super(`the database schema is older than this Tolk (${applied} of ${expected} migrations applied): run \`tolk migrate\` first`);
    this.name = 'SchemaOutdatedError';
  }
}

/**
 * Opens the database. The embedded PGlite (`<dataDir>/pgdata`, or memory for `memory://`) is
 * migrated on open: nothing else can migrate it; its data dir is made private on open and on close
 * (dir 0700, files 0600: {@link secureDataDir}). Postgres (`databaseUrl`) is migrated only when
 * `migrate` is true (`tolk migrate`); otherwise its schema is checked and an older one refused, so
 * several processes never race to change a shared schema on start-up.
 * The embedded database's data dir is locked while open ({@link lockDataDir}).
 * @throws {SchemaOutdatedError} when a Postgres schema lacks migrations this code needs.
 * @throws {DataDirLockedError} when another live process holds the embedded database's data dir.
 * @throws {Error} when the database cannot be reached, a migration fails or the data dir cannot be
 *   made private.
 */
export async function openDatabase(options: { dataDir: string; databaseUrl?: string | undefined; migrate?: boolean }): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection dropped by the server (restart, admin termination) must not crash the
    // process: the pool discards it and the next query opens a new one.
    pool.on('error', (err) => console.error(`postgres: idle connection lost: ${err.message}`));
    const db = drizzlePg(pool, { schema });
    try {
      if (options.migrate) await migratePg(db, { migrationsFolder: MIGRATIONS_DIR });
      else await checkSchema(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return { db: db as unknown as Database, kind: 'postgres', close: () => pool.end() };
  }
  const dataDir = options.dataDir === 'memory://' ? undefined : options.dataDir;
  // Private before PGlite writes into it, and again once it has: PGlite creates its files
  // world-readable (0666); files Postgres creates later are 0600 already (docs/security.md).
  if (dataDir) secureDataDir(dataDir);
  // One process per embedded database (PGlite does not lock its files): docs/operations.md "Data dir".
  const unlock = dataDir ? lockDataDir(path.resolve(dataDir)) : () => {};
  let client: PGlite;
  try {
    // A new cluster is created on a thread of its own (its WebAssembly memory never shrinks): docs/deploy.md "Memory".
    if (dataDir) await initPgliteCluster(path.join(dataDir, 'pgdata'));
    client = new PGlite(dataDir && path.join(dataDir, 'pgdata'));
  } catch (err) {
    unlock();
    throw err;
  }
  const db = drizzlePglite(client, { schema });
  try {
    await migratePglite(db, { migrationsFolder: MIGRATIONS_DIR });
    if (dataDir) secureDataDir(dataDir);
  } catch (err) {
    await client.close();
    unlock();
    throw err;
  }
  const close = async (): Promise<void> => {
    await client.close();
    unlock();
    if (dataDir) secureDataDir(dataDir);
  };
  return { db: db as unknown as Database, kind: 'pglite', close };
}

/** Compares the migrations recorded by drizzle (`drizzle.__drizzle_migrations`) with the code's. */
async function checkSchema(pool: pg.Pool): Promise<void> {
  const expected = expectedMigrations();
  const table = await pool.query<{ exists: boolean }>("select to_regclass('drizzle.__drizzle_migrations') is not null as exists");
  let appliedLastMs = -1;
  let applied = 0;
  if (table.rows[0]?.exists) {
    const rows = await pool.query<{ n: string; last: string | null }>('select count(*) as n, max(created_at) as last from drizzle.__drizzle_migrations');
    applied = Number(rows.rows[0]?.n ?? 0);
    appliedLastMs = Number(rows.rows[0]?.last ?? -1);
  }
  const needed = expected.at(-1)?.createdAtMs ?? -1;
  if (appliedLastMs < needed) throw new SchemaOutdatedError(applied, expected.length);
}
