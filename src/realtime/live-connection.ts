/**
 * A live realtime connection of a session that a registry can end (spec 000 "Active Session
 * Management"): what `SessionConnectionRegistry` (connection-registry.ts) and
 * `KeyConnectionRegistry` (key-connections.ts) hold. Its own module, so the two registries import
 * it without importing each other.
 */
export interface LiveConnection {
  /**
   * Ends the connection at once: an `error` event with `status`, then a close with 4000 + status.
   * Must be idempotent and must not throw.
   */
  disconnect(status: number, description: string): void;
}
