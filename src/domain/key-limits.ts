import { count, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys } from '../db/schema.js';

/** API keys `organizationId` holds (every role and mode), for the cap of docs/security.md "Key roles". */
export async function countOrganizationKeys(db: Database, organizationId: string): Promise<number> {
  const rows = await db.select({ n: count() }).from(apiKeys).where(eq(apiKeys.organizationId, organizationId));
  return rows[0]?.n ?? 0;
}
