import fs from 'node:fs';
import path from 'node:path';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../../db/data-dir.js';

/**
 * Which calls this data dir had live (docs/calls.md "Restarts"). A call room writes an empty
 * `<session id>.live` marker in the recordings folder when it opens and removes it once the call
 * has ended and its recording is listed; the raw leg files of a recording in progress
 * (`<session id>.<leg>.raw`) mark it too. What is left at start was interrupted by a crash or a
 * shutdown: the call is resumed when a participant reconnects, else ended and its recording finished.
 */

const MARKER_SUFFIX = '.live';
const RAW_FILE = /^(.+)\.(customer|agent)\.raw$/;

function markerPath(dir: string, sessionId: string): string {
  return path.join(dir, `${sessionId}${MARKER_SUFFIX}`);
}

/**
 * Marks a session's call live in this data dir.
 * @throws {Error} when the recordings folder cannot be written.
 */
export function markCallLive(dir: string, sessionId: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  fs.writeFileSync(markerPath(dir, sessionId), '', { mode: DATA_FILE_MODE });
}

/** Forgets a session's live marker (its call ended and its recording is listed). */
export function clearCallLive(dir: string, sessionId: string): void {
  fs.rmSync(markerPath(dir, sessionId), { force: true });
}

/** True when the session has a live marker or raw leg files in this data dir. */
export function wasLiveHere(dir: string, sessionId: string): boolean {
  return fs.existsSync(markerPath(dir, sessionId)) || fs.existsSync(path.join(dir, `${sessionId}.customer.raw`)) || fs.existsSync(path.join(dir, `${sessionId}.agent.raw`));
}

/** The sessions a previous process left live in this data dir (markers and raw leg files), sorted. */
export function interruptedSessionIds(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const name of names) {
    if (name.endsWith(MARKER_SUFFIX)) ids.add(name.slice(0, -MARKER_SUFFIX.length));
    const raw = RAW_FILE.exec(name);
    if (raw?.[1]) ids.add(raw[1]);
  }
  return [...ids].sort();
}
