import type { TolkConfig } from '../config.js';
import { expectedMigrations, openDatabase } from '../db/client.js';

/**
 * `tolk migrate`: applies the committed migrations (drizzle/) to Postgres when `DATABASE_URL` is
 * set, otherwise to the embedded database of the data dir, and prints where the schema stands.
 * Run it before starting processes of a new version against a shared Postgres.
 * @throws {Error} when the database cannot be reached or a migration fails.
 */
export async function migrateCommand(config: TolkConfig): Promise<void> {
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, migrate: true });
  await handle.close();
  const migrations = expectedMigrations();
  process.stdout.write(`schema up to date on ${handle.kind}: ${migrations.length} migrations (last ${migrations.at(-1)?.tag ?? 'none'})\n`);
}
