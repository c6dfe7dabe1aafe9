import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeEngines } from '../src/providers/index.js';
import { freePort, startTestServer, testEngines, testPostgresUrl, testRedisUrl } from './helpers.js';

const services = testPostgresUrl() && testRedisUrl();
// `make test` runs the platform tests a second time with both set when the services answer, and
// fails under CI=true when they do not.
const skip = services ? false : 'Postgres and Redis not configured (TOLK_TEST_DATABASE_URL, TOLK_TEST_REDIS_URL)';


async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`second process exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('second process did not become healthy');
}

describe('platform: two processes share one rate-limit budget in Redis', { skip }, () => {
  let first: Awaited<ReturnType<typeof startTestServer>>;
  let second: ChildProcess;
  let secondUrl = '';
  let dataDir = '';
  let stderr = '';

  before(async () => {
    first = await startTestServer({ rateLimitPerMin: 6 });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-second-'));
    second = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: { ...process.env, DATABASE_URL: first.ctx.config.databaseUrl, REDIS_URL: testRedisUrl(), TOLK_RATE_LIMIT_PER_MIN: '6', LOG_LEVEL: 'warn', TOLK_STT_IDLE_DECODERS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForHealth(secondUrl, second, 60_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${stderr.slice(-2000)}`);
    });
  });

  after(async () => {
    second?.kill('SIGTERM');
    await new Promise((r) => (second?.exitCode !== null ? r(undefined) : second.once('exit', r)));
    await first?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await closeEngines(await testEngines());
  });

  it('counts requests to either process against the same key, and both answer 429 past the limit', async () => {
    const headers = { authorization: `Bearer ${first.apiKey}` };
    const remaining: string[] = [];
    for (let i = 0; i < 6; i++) {
      const base = i % 2 === 0 ? first.url : secondUrl;
      const res = await fetch(`${base}/api/api-keys`, { headers });
      assert.equal(res.status, 200, `request ${i} to ${base}`);
      assert.equal(res.headers.get('x-ratelimit-limit'), '6');
      remaining.push(res.headers.get('x-ratelimit-remaining') ?? '');
    }
    assert.deepEqual(remaining, ['5', '4', '3', '2', '1', '0']);
    for (const base of [first.url, secondUrl]) {
      const res = await fetch(`${base}/api/api-keys`, { headers });
      assert.equal(res.status, 429, base);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    }
  });
});
