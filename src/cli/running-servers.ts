import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../db/data-dir-lock.js';

/** What `tolk serve` records about itself for the CLI of the same user. */
export interface RunningServerRecord {
  pid: number;
  /** Absolute data dir (embedded database, admin socket), or `memory://`. */
  dataDir: string;
  /** e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** `pglite` or `postgres`. */
  database: string;
}

/**
 * The per-user folder where running servers record themselves: `$XDG_RUNTIME_DIR/tolk/servers`
 * when set (a private, per-login tmpfs), else `~/.local/state/tolk/servers`.
 */
export function runningServersDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'tolk') : path.join(os.homedir(), '.local', 'state', 'tolk');
  return path.join(base, 'servers');
}

/**
 * Records this process as a running server (`<dir>/<pid>.json`, mode 0600), so `tolk keys …` run
 * from another folder finds its data dir (docs/operations.md "Data dir").
 * @returns the function that removes the record (also run on process exit). Never throws: a
 *   server whose record cannot be written still runs (the CLI then needs --data-dir).
 */
export function recordRunningServer(record: Omit<RunningServerRecord, 'pid'>): () => void {
  const dir = runningServersDir();
  const file = path.join(dir, `${process.pid}.json`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, ...record }), { mode: 0o600 });
  } catch {
    return () => {};
  }
  const remove = (): void => fs.rmSync(file, { force: true });
  process.once('exit', remove);
  return remove;
}

/** The servers of this user that are running now; records of dead processes are removed. */
export function runningServers(): RunningServerRecord[] {
  const dir = runningServersDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const alive: RunningServerRecord[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as RunningServerRecord;
      if (isAlive(record.pid)) alive.push(record);
      else fs.rmSync(file, { force: true });
    } catch {
      // a record being written, or not ours: skipped
    }
  }
  return alive;
}
