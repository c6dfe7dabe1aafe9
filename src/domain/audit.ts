import type { Database } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import { newId } from './api-keys.js';

/** One audit entry: who (`actorKeyId`) did what (`action`, e.g. `session.escalated`) to which id. */
export interface AuditEntry {
  organizationId: string;
  actorKeyId?: string | undefined;
  action: string;
  targetId?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

/** Appends an entry to the organization's audit log. */
export async function recordAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    id: newId('aud'), organizationId: entry.organizationId, actorKeyId: entry.actorKeyId ?? null,
    action: entry.action, targetId: entry.targetId ?? null, detail: entry.detail ?? null,
  });
}
