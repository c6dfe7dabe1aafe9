import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { sessionParticipants, sessions } from '../db/schema.js';

/**
 * Whether `identity` was revoked from the platform session whose LiveKit room is `roomName`
 * (spec 000 "revoke"; docs/rooms.md "Tokens and revocation"). A LiveKit room token cannot be
 * withdrawn, so whoever sees such an identity in the room removes it again.
 */
export async function isRevokedFromRoom(db: Database, roomName: string, identity: string): Promise<boolean> {
  const rows = await db.select({ userId: sessionParticipants.userId }).from(sessionParticipants)
    .innerJoin(sessions, eq(sessions.id, sessionParticipants.sessionId))
    .where(and(eq(sessions.roomName, roomName), eq(sessionParticipants.userId, identity), isNotNull(sessionParticipants.revokedAt)))
    .limit(1);
  return rows.length > 0;
}
