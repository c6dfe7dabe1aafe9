/**
 * What the operations tests share (test/platform-ops.test.ts, test/browser-console-ops.test.ts): a
 * server that starts its own engines, so each reports its requests to the server's metrics (the
 * shared test engines of `startTestServer` report to none), on a fresh database.
 */
import type { Page } from 'playwright-core';
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

/**
 * Records what could leak a key from the console's pages (as test/browser-console.test.ts does):
 * every request URL and navigation of the pages it opens, localStorage snapshots, and the keys seen.
 */
export class LeakRecorder {
  readonly urls: string[] = [];
  readonly storageSnapshots: string[] = [];
  readonly secrets = new Set<string>();

  /** Records `page`'s requests and navigations from now on. */
  watch(page: Page): void {
    page.on('request', (request) => this.urls.push(request.url()));
    page.on('framenavigated', (frame) => this.urls.push(frame.url()));
  }

  /** Snapshots localStorage and sessionStorage; localStorage is kept for {@link LeakRecorder.leaks}. */
  async snapshot(page: Page): Promise<{ local: string; session: string }> {
    const storage = await page.evaluate<{ local: string; session: string }>('({ local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) })');
    this.storageSnapshots.push(storage.local);
    return storage;
  }

  /** Every place a recorded secret appears: in a URL, in localStorage, or in `logLines`. */
  leaks(logLines: readonly string[]): string[] {
    const found: string[] = [];
    for (const secret of this.secrets) {
      const body = secret.replace(/^ip_(live|test)_/, '');
      for (const u of this.urls) if (u.includes(body)) found.push(`URL ${u}`);
      for (const s of this.storageSnapshots) if (s.includes(body)) found.push('localStorage');
      for (const l of logLines) if (l.includes(body)) found.push(`log ${l.slice(0, 120)}`);
    }
    return found;
  }
}
