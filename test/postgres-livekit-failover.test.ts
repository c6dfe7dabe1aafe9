import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { Redis } from 'ioredis';
import { createScratchDatabase, freePort, librivoxSamples, testPostgresUrl, testRedisUrl } from './helpers.js';
import { TestRoomClient, type ReceivedMessage } from './livekit-room-client.js';
import { liveKitSkipReason, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

// Interpreter failover (docs/rooms.md "Placement and failover"): two gateways as processes on one
// Postgres, Redis and livekit-server; the gateway running a room's interpreter is killed and the
// other takes the room over, so the speaker is translated again.
const skip = liveKitSkipReason() || (testPostgresUrl() && testRedisUrl() ? false : 'Postgres and Redis not configured (TOLK_TEST_DATABASE_URL, TOLK_TEST_REDIS_URL)');
const WORKER_SECRET = 'failover-test-secret-0123456789abcdef';
/** docs/rooms.md: another gateway holds the room within this after the first died (claim TTL + a sweep, with margin), in ms. */
const TAKEOVER_BOUND_MS = 5000;

interface Proc { name: string; child: ChildProcess; url: string; stdout: string; stderr: string; exited: Promise<number | null> }

/** Live leg-2 streams of a worker, from its /metrics. */
async function activeLeg2(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tolk_streams_active{surface="leg2"} '));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('interpreter failover: a room whose gateway dies is taken over by another gateway', { skip }, () => {
  const procs: Proc[] = [];
  let lk: TestLiveKitServer;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let redis: Redis;
  let dataDir = '';
  const clients: TestRoomClient[] = [];
  let ownerKey = '';

  /** `tolk serve` (role `all` unless told) on the shared Postgres, Redis and LiveKit server. */
  /** Creates a spec-001 session on `gateway` and joins its room as the speaker. */
  async function joinNewRoom(gateway: Proc, key: string): Promise<{ client: TestRoomClient; roomName: string }> {
    const res = await fetch(`${gateway.url}/api/beta1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ source_language: 'en-US', target_language: 'es-ES', voice_type: 'female' }),
    });
    assert.equal(res.status, 200);
    const { url, token, room_name: roomName } = (await res.json()) as { url: string; token: string; room_name: string };
    const joined = new TestRoomClient();
    clients.push(joined);
    await joined.connect(url, token);
    await joined.waitForInterpreter();
    return { client: joined, roomName };
  }

  async function spawnGateway(name: string, role: 'all' | 'gateway' | 'worker' = 'all'): Promise<Proc> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', role, '--port', String(port), '--host', '127.0.0.1', '--data-dir', path.join(dataDir, name.replace(' ', '-'))], {
      env: {
        ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: scratch.url, REDIS_URL: testRedisUrl(), TOLK_STT_IDLE_DECODERS: role === 'gateway' ? '0' : '1',
        LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret, TOLK_WORKER_SECRET: WORKER_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p: Proc = { name, child, url: `http://127.0.0.1:${port}`, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    child.stdout?.on('data', (d: Buffer) => (p.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (p.stderr += d.toString()));
    procs.push(p);
    await until(`${name} healthy`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${p.stderr.slice(-2000)}`);
      return (await fetch(`${p.url}/api/health`)).ok;
    }, 90_000);
    return p;
  }

  before(async () => {
    lk = await startLiveKitServer();
    scratch = await createScratchDatabase(testPostgresUrl() ?? '');
    redis = new Redis(testRedisUrl() ?? '');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-failover-'));
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await dispose();
    redis?.disconnect();
    await scratch?.drop();
    await lk?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the speaker is translated before and after the gateway of the interpreter is killed', { timeout: 240_000 }, async () => {
    const g1 = await spawnGateway('gateway 1');
    await until('the owner key', async () => /ip_live_\w{32}/.test(g1.stdout));
    ownerKey = /ip_live_\w{32}/.exec(g1.stdout)?.[0] ?? '';
    const g2 = await spawnGateway('gateway 2');
    const { client, roomName } = await joinNewRoom(g1, ownerKey);
    const claimKey = `tolk:interpreter:claim:${roomName}`;
    const firstOwner = await redis.get(claimKey);
    assert.match(firstOwner ?? '', /^gw_/, 'gateway 1 claimed the room');
    assert.ok(await redis.hexists('tolk:interpreter:rooms', roomName), 'the room is recorded for a takeover');

    const finals = (): ReceivedMessage[] => client.ofType('original_transcript').filter((m) => m.message.is_final === true);
    const translatedAfter = (n: number) => async () => finals().length > n && client.ofType('translated_transcript').length > n;
    await client.speak([librivoxSamples('0880'), 2500]);
    await until('a final and its translation from the first interpreter', translatedAfter(0));
    const before = finals().length;

    g1.child.kill('SIGKILL');
    await g1.exited;
    // The claim's TTL (3 s) plus one sweep (1 s) is the takeover bound the docs promise.
    await until('another gateway to claim the room', async () => {
      const owner = await redis.get(claimKey);
      return owner !== null && owner !== firstOwner;
    }, TAKEOVER_BOUND_MS);

    await client.speak([librivoxSamples('0890'), 2500]);
    await until('a final and its translation from the interpreter on gateway 2', translatedAfter(before), 60_000);
    const last = finals().at(-1) as ReceivedMessage;
    assert.equal(last.from, 'tolk-interpreter');
    assert.ok((last.message.text as string).trim().length > 0);
    await until('speech on the new interpreter track after the new final', async () => client.speechFrameTimesMs.some((t) => t > last.receivedAtMs), 30_000);
    assert.equal(g2.child.exitCode, null, 'gateway 2 still runs');
  });

  it('a speaker whose worker dies is recognized again on another worker (split deployment)', { timeout: 240_000 }, async () => {
    const workers = [await spawnGateway('worker 1', 'worker'), await spawnGateway('worker 2', 'worker')];
    const gateway = await spawnGateway('gateway 3', 'gateway');
    const { client } = await joinNewRoom(gateway, ownerKey);
    const finals = (): ReceivedMessage[] => client.ofType('original_transcript').filter((m) => m.message.is_final === true);
    const translatedAfter = (n: number) => async () => finals().length > n && client.ofType('translated_transcript').length > n;
    await client.speak([librivoxSamples('0880'), 2500]);
    await until('a final and its translation', translatedAfter(0));

    // The worker that holds the speaker's stream dies; the other one has room.
    const loads = await Promise.all(workers.map((w) => activeLeg2(w.url)));
    const busy = workers[loads.findIndex((n) => n > 0)];
    assert.ok(busy, `one worker holds the stream (loads ${loads.join(', ')})`);
    const before = finals().length;
    busy.child.kill('SIGKILL');
    await busy.exited;
    const other = workers.find((w) => w !== busy) as Proc;
    await until('the stream placed on the other worker', async () => (await activeLeg2(other.url)) > 0, 30_000);
    await client.speak([librivoxSamples('0890'), 2500]);
    await until('a final and its translation after the worker died', translatedAfter(before), 60_000);
  });
});
