import fs from 'node:fs';
import path from 'node:path';

/** Mode of the data dir and every directory in it: owner only (rwx------). */
export const DATA_DIR_MODE = 0o700;
/** Mode of every file in the data dir: owner read/write only (rw-------). */
export const DATA_FILE_MODE = 0o600;

/** What Tolk keeps in the data dir: the embedded database, the admin socket and call recordings. */
export const DATA_DIR_ENTRIES: readonly string[] = ['pgdata', 'admin.sock', 'recordings', 'tolk.lock'];

/**
 * Creates the data dir when missing and makes it private (docs/security.md): the dir itself and
 * every directory of Tolk's entries ({@link DATA_DIR_ENTRIES}) {@link DATA_DIR_MODE}, every file
 * (database files, WAL, `pg_control`, the admin socket) {@link DATA_FILE_MODE}. Modes looser than
 * that — a data dir from an older Tolk, or files PGlite writes world-readable — are tightened;
 * stricter ones are left alone. Anything else someone put in the dir is left as it is (the dir's
 * own 0700 already hides it), so a data dir pointed at a shared folder does not rewrite its modes.
 * Symbolic links are neither followed nor changed.
 * @param dir - the data dir (`TOLK_DATA_DIR`), an absolute or relative path.
 * @returns how many entries had their mode changed.
 * @throws {Error} when the dir cannot be created or a mode cannot be changed (e.g. another owner).
 */
export function secureDataDir(dir: string): number {
  fs.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  let changed = tighten(dir, false);
  for (const name of DATA_DIR_ENTRIES) changed += tighten(path.join(dir, name), true);
  return changed;
}

/** Tightens `entry` and, when `recursive`, everything below it; returns the number of changes. */
function tighten(entry: string, recursive: boolean): number {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(entry);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // removed meanwhile (a WAL segment recycled)
    throw err;
  }
  if (stat.isSymbolicLink()) return 0;
  const wanted = stat.isDirectory() ? DATA_DIR_MODE : DATA_FILE_MODE;
  let changed = 0;
  // Only bits beyond the wanted ones are removed: a read-only file stays read-only.
  if ((stat.mode & 0o777 & ~wanted) !== 0) {
    fs.chmodSync(entry, stat.mode & 0o777 & wanted);
    changed++;
  }
  if (recursive && stat.isDirectory()) {
    for (const name of fs.readdirSync(entry)) changed += tighten(path.join(entry, name), true);
  }
  return changed;
}
