/**
 * Gateway overhead benchmark (spec 002 Parts 2–3, docs/architecture.md "Processes").
 *
 * What one gateway adds to each audio frame, and how many concurrent `/vt` connections it holds.
 * A gateway (`tolk serve --role gateway`, its own process) proxies to an echo worker (this file
 * with `--echo-worker`, its own process) that speaks leg 2 — secret, config, `ack` — and sends
 * every binary frame straight back. Each 20 ms frame (640 bytes of 16 kHz PCM) carries a sequence
 * number; its round trip is timed on the client:
 *  - direct: client → worker → client (a leg-2 connection opened by the benchmark itself);
 *  - through the gateway: client → gateway → worker → gateway → client, through the real `/vt`
 *    path (auth, checks, leg-2 config, worker pick, proxying).
 * The gateway's added latency is the difference, measured in the same run; then connections are
 * ramped up (all at real-time pace) until the p99 round trip through the gateway passes
 * `HOLD_P99_MS` or connections fail. Writes bench/results/gateway-overhead.json and prints a
 * one-line summary. Needs Redis (`REDIS_URL`, default redis://127.0.0.1:6379).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import WebSocket, { WebSocketServer } from 'ws';
import { buildLeg2Config } from '../src/realtime/leg2-config.js';
import { ackMessage, LEG2_PATH, leg2ConfigSchema, parseControlMessage, WORKER_SECRET_HEADER } from '../src/realtime/leg2-protocol.js';
import { WorkerHeartbeat, WorkerRegistry } from '../src/state/worker-registry.js';
import { freePort } from '../test/helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FRAME_MS = 20;
const FRAME_BYTES = 640;
/** Frames per connection in each measured phase (after WARMUP_FRAMES); the single connection gets more. */
const PHASE_FRAMES = 200;
const SINGLE_PHASE_FRAMES = 1500;
const WARMUP_FRAMES = 25;
/** A concurrency level is held while the p99 round trip through the gateway stays under this, in ms. */
const HOLD_P99_MS = 50;
const RAMP = [1, 50, 100, 150, 200, 300, 400, 800];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const round = (x: number): number => Math.round(x * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** `--echo-worker <port> <secret>`: a leg-2 worker that acknowledges and echoes binary frames. */
async function echoWorker(port: number, secret: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const id = `wrk_bench_${randomBytes(4).toString('hex')}`;
  let load = 0;
  const heartbeat = new WorkerHeartbeat(new WorkerRegistry(redis), () => ({ id, url: `ws://127.0.0.1:${port}${LEG2_PATH}`, capacity: 100_000, load, draining: false }), () => {});
  const wss = new WebSocketServer({
    port, host: '127.0.0.1', path: LEG2_PATH, perMessageDeflate: false,
    verifyClient: (info: { req: { headers: Record<string, string | string[] | undefined> } }) => info.req.headers[WORKER_SECRET_HEADER] === secret,
  });
  wss.on('connection', (ws) => {
    let acked = false;
    ws.on('message', (data, isBinary) => {
      if (acked && isBinary) return ws.send(data, { binary: true });
      if (!acked) {
        const config = leg2ConfigSchema.parse(JSON.parse(data.toString()));
        acked = true;
        load++;
        ws.send(ackMessage(config.request_id, id));
      } else if (parseControlMessage(data.toString()).type === 'drain') ws.close(1000);
    });
    ws.on('close', () => void (acked && load--));
  });
  await heartbeat.start();
  const stop = async (): Promise<void> => {
    await heartbeat.stop();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
}

interface Conn { ws: WebSocket; seq: number; sentAtMs: Map<number, number>; rttMs: number[]; failed: boolean }

/** Opens a connection and resolves once frames can be sent (direct: after the ack; gateway: when open). */
async function openConn(url: string, first: string, headers: Record<string, string>, waitForAck: boolean): Promise<Conn> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  const c: Conn = { ws, seq: 0, sentAtMs: new Map(), rttMs: [], failed: false };
  let ready: () => void = () => {};
  const acked = new Promise<void>((r) => (ready = r));
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      if (String(data).includes('"ack"')) ready();
      else if (String(data).includes('"error"')) c.failed = true;
      return;
    }
    const seq = (data as Buffer).readUInt32LE(0);
    const at = c.sentAtMs.get(seq);
    if (at !== undefined && seq >= WARMUP_FRAMES) c.rttMs.push(performance.now() - at);
    c.sentAtMs.delete(seq);
  });
  ws.on('close', (code) => void (code !== 1000 && (c.failed = true)));
  ws.on('error', () => void (c.failed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(first);
  if (waitForAck) await Promise.race([acked, sleep(10_000)]);
  return c;
}

/** Sends WARMUP_FRAMES + PHASE_FRAMES frames on every connection at real-time pace; returns the round trips. */
async function runPhase(conns: Conn[], frames: number): Promise<{ rttMs: number[]; failed: number }> {
  const frame = Buffer.alloc(FRAME_BYTES);
  const start = performance.now();
  for (let n = 0; n < WARMUP_FRAMES + frames; n++) {
    for (const c of conns) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      const f = Buffer.from(frame);
      f.writeUInt32LE(c.seq, 0);
      c.sentAtMs.set(c.seq++, performance.now());
      c.ws.send(f, { binary: true });
    }
    const wait = start + (n + 1) * FRAME_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await sleep(500);
  return { rttMs: conns.flatMap((c) => c.rttMs), failed: conns.filter((c) => c.failed || c.ws.readyState !== WebSocket.OPEN).length };
}

async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(conns.map((c) => new Promise<void>((r) => {
    if (c.ws.readyState === WebSocket.CLOSED) return r();
    c.ws.once('close', () => r());
    c.ws.close(1000);
  })));
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`process exited ${child.exitCode}`);
    if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error('not healthy');
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
}

async function main(): Promise<void> {
  const secret = randomBytes(24).toString('hex');
  const workerPort = await freePort();
  const gatewayPort = await freePort();
  const children: ChildProcess[] = [];
  const stop = (): void => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.on('exit', stop);
  const worker = spawn(process.execPath, ['--import', 'tsx', 'bench/gateway-overhead.ts', '--echo-worker', String(workerPort), secret], { stdio: 'inherit' });
  children.push(worker);
  const gateway = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', 'gateway', '--port', String(gatewayPort), '--host', '127.0.0.1'], {
    env: {
      ...process.env, TOLK_DATA_DIR: 'memory://', LOG_LEVEL: 'error', REDIS_URL, TOLK_WORKER_SECRET: secret,
      TOLK_MAX_STREAMS: '100000', TOLK_STT_IDLE_DECODERS: '0', TOLK_RATE_LIMIT_PER_MIN: '100000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(gateway);
  let stdout = '';
  gateway.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitHealthy(gatewayUrl, gateway);
  const apiKey = /ip_live_\w{32}/.exec(stdout)?.[0];
  if (!apiKey) throw new Error('the gateway printed no owner key');
  for (let i = 0; i < 100 && (await metric(gatewayUrl, 'tolk_worker_registry_size')) < 1; i++) await sleep(100);

  const vtConfig = JSON.stringify({ config: { api_key: apiKey, source_language: 'en-US', target_language: 'es-ES', voice: 'female' } });
  const leg2Config = (): string => JSON.stringify(buildLeg2Config({
    requestId: `api-${Date.now()}-${randomUUID().slice(0, 8)}`,
    client: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, voice: 'female', transcript: { interim: false, final: true, translate: true } },
    sourceLanguage: 'en-US', targetLanguage: 'es-ES', vocabulary: [], dictionary: [],
    providers: { stt: 'pocketsphinx', translator: 'apertium', tts: 'espeak-ng' }, organizationId: 'org_bench', apiKeyId: 'key_bench',
  }));
  const direct = (): Promise<Conn> => openConn(`ws://127.0.0.1:${workerPort}${LEG2_PATH}`, leg2Config(), { [WORKER_SECRET_HEADER]: secret }, true);
  const viaGateway = (): Promise<Conn> => openConn(`ws://127.0.0.1:${gatewayPort}/vt`, vtConfig, {}, false);
  /** Opens `n` connections, 50 at a time (a gateway connection is usable once the worker acknowledged: wait for it). */
  const openMany = async (n: number, open: () => Promise<Conn>): Promise<Conn[]> => {
    const conns: Conn[] = [];
    for (let i = 0; i < n; i += 50) conns.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, open))));
    return conns;
  };
  const levels: Array<Record<string, number>> = [];
  let held = 0;
  for (const n of RAMP) {
    const frames = n === 1 ? SINGLE_PHASE_FRAMES : PHASE_FRAMES;
    const d = await openMany(n, direct);
    const directPhase = await runPhase(d, frames);
    await closeAll(d);
    const g = await openMany(n, viaGateway);
    await sleep(Math.min(5000, 500 + n * 5)); // until every gateway connection has its leg 2
    const cpuBefore = await metric(gatewayUrl, 'tolk_process_cpu_seconds_total');
    const rssOpen = await metric(gatewayUrl, 'tolk_process_resident_memory_bytes');
    const t0 = performance.now();
    const gatewayPhase = await runPhase(g, frames);
    const cpuS = (await metric(gatewayUrl, 'tolk_process_cpu_seconds_total')) - cpuBefore;
    const wallS = (performance.now() - t0) / 1000;
    await closeAll(g);
    const level = {
      connections: n,
      direct_p50_ms: round(percentile(directPhase.rttMs, 50)), direct_p99_ms: round(percentile(directPhase.rttMs, 99)),
      gateway_p50_ms: round(percentile(gatewayPhase.rttMs, 50)), gateway_p99_ms: round(percentile(gatewayPhase.rttMs, 99)),
      added_p50_ms: round(percentile(gatewayPhase.rttMs, 50) - percentile(directPhase.rttMs, 50)),
      added_p99_ms: round(percentile(gatewayPhase.rttMs, 99) - percentile(directPhase.rttMs, 99)),
      frames_measured: gatewayPhase.rttMs.length, failed_connections: gatewayPhase.failed + directPhase.failed,
      gateway_cpu_ratio: round(cpuS / wallS), gateway_rss_mb: round(rssOpen / 1e6),
    };
    levels.push(level);
    console.log(`# ${JSON.stringify(level)}`);
    if (gatewayPhase.failed > 0 || level.gateway_p99_ms > HOLD_P99_MS) break;
    held = n;
    await sleep(1000);
  }
  const single = levels[0] ?? {};
  const result = {
    date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '' },
    frame: { ms: FRAME_MS, bytes: FRAME_BYTES, per_connection_per_phase: PHASE_FRAMES, single_connection_phase: SINGLE_PHASE_FRAMES },
    note: 'round trip client→(gateway→)echo worker→(gateway→)client on loopback; the gateway, the echo worker and the client each run in their own process on the same machine, so past a few hundred connections they compete for its CPUs: the held count is a lower bound for a gateway on its own machine',
    hold_criterion: `p99 round trip through the gateway < ${HOLD_P99_MS} ms and no failed connection`,
    single_connection: single, held_connections: held, levels,
  };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/gateway-overhead.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `gateway overhead per 20 ms frame: +${single.added_p50_ms} ms p50, +${single.added_p99_ms} ms p99 round trip (direct ${single.direct_p50_ms}/${single.direct_p99_ms} ms, via gateway ${single.gateway_p50_ms}/${single.gateway_p99_ms} ms); ` +
    `one gateway held ${held} concurrent real-time connections (p99 < ${HOLD_P99_MS} ms) on ${os.cpus().length} CPUs`,
  );
  stop();
  process.exit(0);
}

if (process.argv[2] === '--echo-worker') await echoWorker(Number(process.argv[3]), process.argv[4] ?? '');
else await main();
