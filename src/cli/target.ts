import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type TolkConfig } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { readDataDirLock } from '../db/data-dir-lock.js';
import { adminSocketPath } from '../api/admin/admin-socket.js';
import { viaAdminSocket } from './admin-socket.js';
import { runningServers } from './running-servers.js';

/** The configuration of a CLI command and why its data dir is the one it is. */
export interface CliTarget {
  config: TolkConfig;
  /** e.g. `--data-dir`, `TOLK_DATA_DIR`, `the running tolk serve (pid 123)`, `the default ./.tolk`. */
  dataDirSource: string;
}

/**
 * The data dir a `tolk keys|orgs` command works on: `--data-dir`, else `TOLK_DATA_DIR`, else the
 * data dir of this user's running `tolk serve` (recorded by it: src/cli/running-servers.ts), else
 * `./.tolk` (docs/operations.md "Data dir").
 * @throws {Error} when several servers run and none uses `./.tolk`: the command must be told which.
 */
export function cliTarget(dataDirFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): CliTarget {
  if (dataDirFlag) return { config: loadConfig(env, { dataDir: dataDirFlag }), dataDirSource: '--data-dir' };
  if (env.TOLK_DATA_DIR) return { config: loadConfig(env), dataDirSource: 'TOLK_DATA_DIR' };
  const fallback = loadConfig(env);
  const servers = runningServers().filter((s) => s.dataDir !== 'memory://');
  const here = servers.find((s) => s.dataDir === fallback.dataDir);
  const chosen = here ?? (servers.length === 1 ? servers[0] : undefined);
  if (chosen) return { config: loadConfig(env, { dataDir: chosen.dataDir }), dataDirSource: `the running tolk serve (pid ${chosen.pid}, ${chosen.url})` };
  if (servers.length > 1) {
    const list = servers.map((s) => `  pid ${s.pid}: ${s.dataDir} (${s.url})`).join('\n');
    throw new Error(`several Tolk servers are running; say which with --data-dir (or TOLK_DATA_DIR):\n${list}`);
  }
  return { config: fallback, dataDirSource: 'the default ./.tolk (no running tolk serve found)' };
}

/** Writes where a command's change went, on stderr (stdout stays the command's output, e.g. --json). */
function tell(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Runs a CLI request on the running server's admin socket (`POST <adminPath>`) when one answers on
 * the data dir, otherwise directly on the database; says on stderr which it was, where, and — when
 * the data dir holds no database yet — that a new, empty one is created there.
 * @throws {Error} with the server's or the database's message.
 */
export async function viaServerOrDatabase<T>(target: CliTarget, adminPath: string, request: object, direct: (db: Database) => Promise<T>): Promise<T> {
  const { config, dataDirSource } = target;
  if (!config.databaseUrl) {
    const answer = await viaAdminSocket<T>(adminSocketPath(config.dataDir), adminPath, request);
    if (answer !== undefined) {
      const pid = readDataDirLock(config.dataDir)?.pid;
      tell(`Through the running server${pid ? ` (pid ${pid})` : ''} on data dir ${config.dataDir} (from ${dataDirSource}).`);
      return answer;
    }
    if (!fs.existsSync(path.join(config.dataDir, 'pgdata'))) {
      tell(`No running Tolk server answers on ${config.dataDir} (from ${dataDirSource}) and it holds no database: creating a NEW, EMPTY database there. ` +
        'A server using another data dir will not see this; give that one with --data-dir or TOLK_DATA_DIR.');
    } else {
      tell(`No running Tolk server answers on ${config.dataDir} (from ${dataDirSource}): working on its database files directly (a server started on it later sees the change).`);
    }
  } else {
    tell('Written to the Postgres database of DATABASE_URL.');
  }
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    return await direct(handle.db);
  } finally {
    await handle.close();
  }
}
