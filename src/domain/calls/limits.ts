import { and, count, eq, gt, ne, or } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { callSessions } from '../../db/schema.js';

/**
 * Call sessions of `organizationId` that are open (docs/security.md "Calls surface limits"):
 * not ended, and — for one still `created` — whose stream token can still connect. A created
 * session nobody connected to within its token's lifetime no longer counts.
 */
export async function countOpenCallSessions(db: Database, organizationId: string, now = new Date()): Promise<number> {
  const rows = await db.select({ n: count() }).from(callSessions).where(and(
    eq(callSessions.organizationId, organizationId), ne(callSessions.status, 'ended'),
    or(ne(callSessions.status, 'created'), gt(callSessions.streamExpiresAt, now)),
  ));
  return rows[0]?.n ?? 0;
}
