/**
 * What the operations tests share (test/platform-ops.test.ts, test/browser-console-ops.test.ts): a
 * server that starts its own engines, so each reports its requests to the server's metrics (the
 * shared test engines of `startTestServer` report to none), on a fresh database.
 */
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createScratchDatabase, testPostgresUrl, testRedisUrl } from './helpers.js';

/** A running server with its first owner key. */
export type OpsServer = RunningServer & { apiKey: string };

/**
 * Starts a server on a free loopback port with its own engines (the offline three) and an owner key.
 * @param env - settings as environment variables (`TOLK_WEBHOOK_ALLOW_HOSTS`, …).
 * @param options.logStream - receives the server's log lines (JSON).
 * @param options.logLevel - `warn` unless given.
 * @param options.redis - false: no Redis even when `TOLK_TEST_REDIS_URL` is set (webhook retries then
 *   wait in this process, not in a BullMQ queue that other test servers on the same Redis also work).
 */
export async function startOpsServer(env: Record<string, string> = {}, options: { logStream?: { write(line: string): void }; logLevel?: string; rateLimitPerMin?: number; redis?: boolean } = {}): Promise<OpsServer> {
  const pgUrl = testPostgresUrl();
  const scratch = pgUrl ? await createScratchDatabase(pgUrl) : undefined;
  const capacity = { ...loadConfig({}).capacity, maxBacklogMs: 600_000 };
  const config = loadConfig(env, {
    port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: (options.logLevel ?? 'warn') as 'warn',
    databaseUrl: scratch?.url, redisUrl: options.redis === false ? undefined : testRedisUrl(), capacity, rateLimitPerMin: options.rateLimitPerMin ?? 10_000,
  });
  const server = await startServer(config, { logStream: options.logStream });
  if (!server.firstOwnerKey) throw new Error('test server has no owner key');
  const close = server.close;
  return Object.assign(server, {
    apiKey: server.firstOwnerKey,
    close: async () => {
      await close();
      await scratch?.drop();
    },
  });
}
