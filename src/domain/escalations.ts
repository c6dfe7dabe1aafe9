import { and, count, eq, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { escalations } from '../db/schema.js';
import { newId } from './api-keys.js';

/** Options of {@link escalateSession}. */
export interface EscalateOptions {
  organizationId: string;
  sessionId: string;
  /** Free text from the caller (spec 000: "stored in audit log"); also kept on the escalation. */
  reason?: string | undefined;
  createdByKeyId?: string | undefined;
}

/** A queued escalation: its id (`esc_…`) and 1-based place in the organization's queue. */
export interface QueuedEscalation {
  id: string;
  queuePosition: number;
  createdAt: Date;
}

/**
 * Puts a session in the organization's human-interpreter queue (spec 000 `POST
 * /api/sessions/:id/escalate`). The position is 1 + the organization's escalations still `queued`
 * ahead of this one (earlier `created_at`, ties broken by id), counted after the insert so two
 * concurrent escalations never get the same place. Callers check the session (exists, not completed).
 */
export async function escalateSession(db: Database, o: EscalateOptions): Promise<QueuedEscalation> {
  const id = newId('esc');
  const [row] = await db.insert(escalations).values({
    id, sessionId: o.sessionId, organizationId: o.organizationId, reason: o.reason ?? null, status: 'queued', createdByKeyId: o.createdByKeyId ?? null,
  }).returning({ createdAt: escalations.createdAt });
  if (!row) throw new Error('escalation insert returned no row');
  const [ahead] = await db.select({ n: count() }).from(escalations).where(and(
    eq(escalations.organizationId, o.organizationId),
    eq(escalations.status, 'queued'),
    or(lt(escalations.createdAt, row.createdAt), and(eq(escalations.createdAt, row.createdAt), sql`${escalations.id} < ${id}`)),
  ));
  return { id, queuePosition: 1 + (ahead?.n ?? 0), createdAt: row.createdAt };
}
