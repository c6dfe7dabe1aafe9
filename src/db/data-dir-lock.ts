import fs from 'node:fs';
import path from 'node:path';
import { DATA_FILE_MODE } from './data-dir.js';

/** Name of the lock file in the data dir: `{"pid","startedAt","command"}` of the process holding it. */
export const LOCK_FILE = 'tolk.lock';

/** What the lock file says about its holder. */
export interface DataDirLockHolder {
  /** Process id of the holder. */
  pid: number;
  /** When it took the lock (ISO 8601). */
  startedAt: string;
  /** The command line it runs (`tolk serve`, `tolk keys create`…). */
  command: string;
}

/** Thrown when another live process holds the data dir's embedded database. */
export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly holder: DataDirLockHolder) {
    super(
      `the data dir ${dataDir} is in use by another Tolk process (pid ${holder.pid}, "${holder.command}", since ${holder.startedAt}): ` +
      'its embedded database allows one process. Stop that process first, or give this one its own --data-dir (TOLK_DATA_DIR)',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Locks this process holds, by data dir, with how many open databases share each. */
const held = new Map<string, number>();

/**
 * The holder of `dataDir`'s lock when a live process holds it, else undefined (no lock file, an
 * unreadable one, or one left by a process that is gone).
 */
export function readDataDirLock(dataDir: string): DataDirLockHolder | undefined {
  let holder: DataDirLockHolder;
  try {
    holder = JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')) as DataDirLockHolder;
  } catch {
    return undefined;
  }
  return Number.isInteger(holder.pid) && isAlive(holder.pid) ? holder : undefined;
}

/** True when a process with this pid exists (also when it belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of an embedded database's data dir (`<dataDir>/tolk.lock`, created atomically with
 * a hard link): one process at a time, since PGlite has no locking of its own and two processes
 * would each see only their own writes. A lock left by a dead process is taken over. Opening the
 * same data dir again in this process shares the lock (counted).
 * @param dataDir - an absolute path (`TOLK_DATA_DIR`), existing.
 * @returns the function that releases the lock (once per call).
 * @throws {DataDirLockedError} when a live process holds it.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const count = held.get(dataDir) ?? 0;
  if (count === 0) acquire(dataDir, lockPath);
  held.set(dataDir, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(dataDir) ?? 1) - 1;
    if (left > 0) {
      held.set(dataDir, left);
      return;
    }
    held.delete(dataDir);
    try {
      const holder = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as DataDirLockHolder;
      if (holder.pid === process.pid) fs.rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
  };
}

function acquire(dataDir: string, lockPath: string): void {
  const mine: DataDirLockHolder = { pid: process.pid, startedAt: new Date().toISOString(), command: commandLine() };
  const temp = `${lockPath}.${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(mine), { mode: DATA_FILE_MODE });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(temp, lockPath); // atomic: fails when the file exists
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readDataDirLock(dataDir);
      if (holder && holder.pid !== process.pid) throw new DataDirLockedError(dataDir, holder);
      // Stale (its process is gone, or it is ours from a database closed without release): take it over.
      fs.rmSync(lockPath, { force: true });
    }
    throw new Error(`could not lock the data dir ${dataDir}: ${LOCK_FILE} keeps reappearing`);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Commands of the CLI that have subcommands (`tolk keys create`). */
const COMMAND_GROUPS = ['keys', 'orgs', 'engines'];

/** `tolk serve`, `tolk keys create`… for the lock file (options and arguments left out). */
function commandLine(): string {
  const [command, sub] = process.argv.slice(2);
  if (!command || command.startsWith('-') || command.includes('/')) return 'tolk';
  return COMMAND_GROUPS.includes(command) && sub ? `tolk ${command} ${sub}` : `tolk ${command}`;
}
