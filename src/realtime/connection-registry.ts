/** A live realtime connection of a session that the registry can end. */
export interface LiveConnection {
  /**
   * Ends the connection at once: an `error` event with `status`, then a close with 4000 + status.
   * Must be idempotent and must not throw.
   */
  disconnect(status: number, description: string): void;
}

/**
 * The live connections of each platform session, by participant (spec 000 "Active Session
 * Management"): how many streams a session has (it completes when the last one closes) and which
 * to end when a participant is revoked.
 *
 * Process-local for now: it only sees the connections of this process. When streams are spread
 * over several gateways it moves to Redis pub/sub (a revocation is published on the session's
 * channel and every gateway disconnects its own connections; live counts become Redis counters).
 */
export class SessionConnectionRegistry {
  private readonly bySession = new Map<string, Map<LiveConnection, string>>();

  /** Registers `connection` as a live stream of `participantId` in `sessionId`. */
  add(sessionId: string, participantId: string, connection: LiveConnection): void {
    let live = this.bySession.get(sessionId);
    if (!live) this.bySession.set(sessionId, (live = new Map()));
    live.set(connection, participantId);
  }

  /**
   * Forgets a connection.
   * @returns the number of live connections the session still has.
   */
  remove(sessionId: string, connection: LiveConnection): number {
    const live = this.bySession.get(sessionId);
    if (!live) return 0;
    live.delete(connection);
    if (live.size === 0) this.bySession.delete(sessionId);
    return live.size;
  }

  /** Live connections of a session. */
  count(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  /**
   * Ends every live connection of a participant (see {@link LiveConnection.disconnect}); they remove
   * themselves when their close completes.
   * @returns how many connections were told to end.
   */
  disconnectParticipant(sessionId: string, participantId: string, status: number, description: string): number {
    const live = this.bySession.get(sessionId);
    if (!live) return 0;
    const targets = [...live].filter(([, p]) => p === participantId).map(([c]) => c);
    for (const c of targets) c.disconnect(status, description);
    return targets.length;
  }
}
