import type { LiveConnection } from './live-connection.js';

/**
 * The live `/vt` connections of this process by the API key they stand for — opened with the key
 * itself or with a session key it issued — so that rotating or deleting the key ends them
 * (docs/stream-protocol.md "Revocation"). Process-local; `RedisSessionPresence` carries a key's
 * revocation to the other processes.
 */
export class KeyConnectionRegistry {
  private readonly byKey = new Map<string, Set<LiveConnection>>();

  /** Registers `connection` as a live stream of API key `keyId`. */
  add(keyId: string, connection: LiveConnection): void {
    let live = this.byKey.get(keyId);
    if (!live) this.byKey.set(keyId, (live = new Set()));
    live.add(connection);
  }

  /** Forgets a connection (again is harmless). */
  remove(keyId: string, connection: LiveConnection): void {
    const live = this.byKey.get(keyId);
    if (!live) return;
    live.delete(connection);
    if (live.size === 0) this.byKey.delete(keyId);
  }

  /** Live connections of API key `keyId` in this process. */
  count(keyId: string): number {
    return this.byKey.get(keyId)?.size ?? 0;
  }

  /**
   * Ends every live connection of API key `keyId` (see {@link LiveConnection.disconnect}); they
   * remove themselves when their close completes.
   * @returns how many connections were told to end.
   */
  disconnectKey(keyId: string, status: number, description: string): number {
    const targets = [...(this.byKey.get(keyId) ?? [])];
    for (const c of targets) c.disconnect(status, description);
    return targets.length;
  }
}
