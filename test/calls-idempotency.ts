import { callSessions } from '../src/db/schema.js';
import { count } from 'drizzle-orm';
import type { CallsTestServer } from './calls-support.js';

/**
 * Sends `n` identical `POST /v1/sessions` at once with one new `Idempotency-Key`, and counts the
 * sessions the server holds before and after.
 */
export async function runConcurrentIdempotency(server: CallsTestServer, body: unknown, n: number): Promise<{ ids: string[]; statuses: number[]; replayed: number; created: number }> {
  const countRows = async () => (await server.ctx.db.select({ n: count() }).from(callSessions))[0]?.n ?? 0;
  const before = await countRows();
  const key = `race-${Date.now()}-${Math.random()}`;
  const results = await Promise.all(Array.from({ length: n }, () => server.call('POST', '/v1/sessions', body, { 'idempotency-key': key })));
  const created = (await countRows()) - before;
  return {
    ids: results.map((r) => r.json?.id as string),
    statuses: results.map((r) => r.status),
    replayed: results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length,
    created,
  };
}
