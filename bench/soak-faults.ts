/**
 * Soak under faults (issue 24; loopback only, bounded): a real `tolk serve` on one data dir takes
 * 200 recorded call sessions whose webhooks go to a slow endpoint (answers after 1.5 s) and a
 * failing one (500 to the first 2 attempts of every event), and 50 LiveKit sessions created and
 * joined by a real rtc-node participant (livekit-server from LIVEKIT_SERVER_BIN); the server is
 * killed with SIGKILL at a random moment of each of three rounds and started again. After each
 * restart it checks that nothing is lost: every call live at a kill was ended by the restart
 * (`server_restart`), the calls live on the new process are ended by the client, every recording of a call that went live is listed `ready`, every stored
 * webhook event was delivered (2xx) with its stable id; deliveries of one id more than once (a
 * kill between the receiver's 2xx and Tolk storing it: at least once) are counted. At the end, RSS
 * of the last process once idle against the first process's RSS when it started (the baseline
 * measured in the same run).
 *
 *   LIVEKIT_SERVER_BIN=… node --import tsx bench/soak-faults.ts [--calls 200] [--rooms 50] [--kills 3]
 *
 * Passes TOLK_WEBHOOK_ALLOW_HOSTS=127.0.0.1,localhost (the loopback receivers) for servers that
 * guard webhook destinations. Prints one JSON summary line and writes bench/results/soak-faults.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { dispose, Room, RoomEvent } from '@livekit/rtc-node';
import WebSocket from 'ws';
import { freePort } from '../test/helpers.js';
import { startLiveKitServer } from '../test/livekit-server.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg('calls', 200);
const ROOMS = arg('rooms', 50);
const KILLS = arg('kills', 3);
const WAVE = 5;
const progress = (what: string): void => void process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${what}\n`);
const RATE_HZ = 16000;

/** A webhook receiver that counts 2xx deliveries per event id. */
class Receiver {
  readonly delivered = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  constructor(private readonly mode: 'slow' | 'failing') {}
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const id = (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id;
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    if (this.mode === 'failing' && n <= 2) return void res.writeHead(500).end('try again');
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, 1500));
    this.delivered.set(id, (this.delivered.get(id) ?? 0) + 1);
    res.writeHead(200).end('ok');
  }
}

interface Tolk { url: string; child: ChildProcess; exited: Promise<unknown>; out: () => string }

async function startTolk(dataDir: string, env: Record<string, string>): Promise<Tolk> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; !(await fetch(`${url}/api/health`).then((r) => r.ok, () => false));) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tolk serve did not come up: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, exited, out: () => out };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) / 1024 : NaN;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function api(base: () => string, key: string) {
  return async (method: string, p: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${base()}${p}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
  };
}

/** One recorded call: created, its customer socket sends 1 s of audio; two in three are ended by the client. */
async function oneCall(call: ReturnType<typeof api>, hook: string, i: number, live: Set<string>): Promise<string | undefined> {
  const created = await call('POST', '/v1/sessions', {
    mode: 'bidirectional_translation', source_language: 'en', target_language: 'es', webhook_url: hook, recording: { enabled: true, channels: 'dual' },
  });
  if (created.status !== 201) return undefined;
  const s = created.json;
  const ws = new WebSocket(`${s.stream.url}?token=${s.stream.token}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed')));
  }).catch(() => undefined);
  if (ws.readyState === WebSocket.OPEN) {
    live.add(s.id as string);
    const chunk = Buffer.alloc(RATE_HZ / 5).toString('base64'); // 100 ms of silence
    for (let k = 0; k < 10; k++) ws.send(JSON.stringify({ type: 'audio', data: chunk }));
    await new Promise((r) => setTimeout(r, 300));
    if (i % 3 !== 0) await call('POST', `/v1/sessions/${s.id}/end`, { reason: 'completed' }).catch(() => undefined);
  }
  ws.terminate();
  return s.id as string;
}

/** `promise`, or `fallback` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise.catch(() => fallback), new Promise<T>((r) => setTimeout(() => r(fallback), ms).unref())]);
}

/** One LiveKit session: created, joined by an rtc-node participant until the interpreter is there, left. */
async function oneRoom(base: string, key: string): Promise<boolean> {
  const res = await fetch(`${base}/api/beta1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ source_language: 'en-US', target_language: 'es-ES', voice_type: 'female' }),
  }).catch(() => undefined);
  if (!res || res.status !== 200) return false;
  const { url, token } = (await res.json()) as { url: string; token: string };
  const room = new Room();
  try {
    if (!(await within(room.connect(url, token, { autoSubscribe: false, dynacast: false }).then(() => true), 10_000, false))) return false;
    const joined = await new Promise<boolean>((resolve) => {
      const has = () => [...room.remoteParticipants.values()].some((p) => p.identity === 'tolk-interpreter');
      if (has()) return resolve(true);
      const timer = setTimeout(() => resolve(false), 15_000);
      room.on(RoomEvent.ParticipantConnected, () => { if (has()) { clearTimeout(timer); resolve(true); } });
    });
    return joined;
  } finally {
    await within(room.disconnect(), 5000, undefined);
  }
}

/** Waits until `check` holds (re-checked every 500 ms), up to `timeoutMs`; returns whether it did. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function main(): Promise<void> {
  const slow = new Receiver('slow');
  const failing = new Receiver('failing');
  const hooks = [await slow.listen(), await failing.listen()];
  const lk = await startLiveKitServer();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-soak-'));
  const env = {
    LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret, TOLK_MAX_INTERPRETERS: '60', TOLK_ROOM_POLL_MS: '250',
    TOLK_CALL_RESUME_GRACE_MS: '1500', TOLK_WEBHOOK_RETRY_BASE_MS: '300', TOLK_WEBHOOK_MAX_ATTEMPTS: '10', TOLK_WEBHOOK_TIMEOUT_MS: '5000',
    TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1,localhost', TOLK_STT_IDLE_DECODERS: '2', TOLK_RATE_LIMIT_PER_MIN: '10000',
  };
  let tolk = await startTolk(dataDir, env);
  const key = /ip_live_\w{32}/.exec(tolk.out())?.[0] ?? '';
  progress(`server up, owner key ${key ? 'read' : 'MISSING'}`);
  await new Promise((r) => setTimeout(r, 3000));
  const rssStartMb = rssMb(tolk.child.pid ?? 0);
  const call = api(() => tolk.url, key);
  const sessions: string[] = [];
  const live = new Set<string>();
  let roomsJoined = 0;
  let rssAtRestartMb = NaN;
  /** Calls that were live when a server was killed: the restart must end them (nobody reconnects). */
  const liveAtKill = new Set<string>();
  const rounds: Json[] = [];
  for (let round = 0; round < KILLS; round++) {
    const callsThisRound = Math.round(CALLS / KILLS) + (round === KILLS - 1 ? CALLS - Math.round(CALLS / KILLS) * KILLS : 0);
    const roomsThisRound = Math.round(ROOMS / KILLS) + (round === KILLS - 1 ? ROOMS - Math.round(ROOMS / KILLS) * KILLS : 0);
    let killed = false;
    // The kill comes at a random moment once at least half of this round's calls are under way.
    const killAfter = Math.floor(callsThisRound / 2 + Math.random() * (callsThisRound / 2));
    let started = 0;
    for (let r = 0; r < roomsThisRound; r++) if (await within(oneRoom(tolk.url, key), 40_000, false)) roomsJoined++;
    progress(`round ${round + 1}: ${roomsJoined} LiveKit sessions created and joined so far`);
    while (started < callsThisRound) {
      const wave = Array.from({ length: Math.min(WAVE, callsThisRound - started) }, (_, k) => oneCall(call, hooks[(started + k) % 2] as string, started + k, live).catch(() => undefined));
      started += wave.length;
      if (!killed && started >= killAfter) {
        await new Promise((r) => setTimeout(r, Math.random() * 400));
        tolk.child.kill('SIGKILL');
        killed = true;
        for (const id of live) liveAtKill.add(id);
        progress(`round ${round + 1}: kill -9 after ${started} calls started`);
      }
      for (const id of await Promise.all(wave)) if (id) sessions.push(id);
      progress(`round ${round + 1}: ${started} calls started, ${live.size} live so far`);
      if (killed && tolk.child.killed) {
        await tolk.exited;
        tolk = await startTolk(dataDir, env);
        rssAtRestartMb = rssMb(tolk.child.pid ?? 0);
        progress(`round ${round + 1}: restarted`);
      }
    }
    const t0 = Date.now();
    progress(`round ${round + 1}: ${sessions.length} calls, ${live.size} live, ${roomsJoined} rooms joined; checking`);
    // Nothing lost: every call live at a kill has been ended by the restart; the client ends the calls
    // it left live on the new process; then every call has ended with its recording listed and
    // every event is delivered.
    const liveIds = [...live];
    const endedByRestart = await until(async () => {
      for (const id of liveAtKill) if ((await call('GET', `/v1/sessions/${id}`)).json.status !== 'ended') return false;
      return true;
    }, 60_000);
    for (const id of liveIds) {
      if (liveAtKill.has(id)) continue;
      if ((await call('GET', `/v1/sessions/${id}`)).json.status !== 'ended') await call('POST', `/v1/sessions/${id}/end`, { reason: 'completed' });
    }
    const ended = await until(async () => {
      for (const id of liveIds) if ((await call('GET', `/v1/sessions/${id}`)).json.status !== 'ended') return false;
      return true;
    }, 60_000);
    let recordingsReady = 0;
    for (const id of liveIds) {
      const list = (await call('GET', `/v1/sessions/${id}/recordings`)).json.data as Json[] | undefined;
      if (list?.length === 1 && list[0]?.status === 'ready') recordingsReady++;
    }
    const pendingEvents = async (): Promise<number> => {
      let pending = 0;
      for (const id of sessions) {
        const events = (await call('GET', `/v1/webhook_events?session_id=${id}&limit=100`)).json.data as Json[];
        pending += events.filter((e) => e.status !== 'delivered').length;
      }
      return pending;
    };
    progress(`round ${round + 1}: calls ended: ${ended}`);
    await until(async () => (await pendingEvents()) === 0, 120_000);
    const pending = await pendingEvents();
    const delivered = [...slow.delivered.values(), ...failing.delivered.values()];
    rounds.push({
      round: round + 1, callsCreated: sessions.length, callsLive: liveIds.length, liveAtKills: liveAtKill.size, endedByRestart, allEnded: ended, recordingsReady, eventsPending: pending,
      eventIdsDelivered: delivered.length, eventIdsDeliveredTwice: delivered.filter((n) => n > 1).length, roomsJoined, recoverMs: Date.now() - t0,
      rssAtRestartMb: Math.round(rssAtRestartMb), rssAfterRoundMb: Math.round(rssMb(tolk.child.pid ?? 0)),
    });
    console.error(JSON.stringify(rounds.at(-1)));
  }
  await new Promise((r) => setTimeout(r, 5000));
  const rssEndMb = rssMb(tolk.child.pid ?? 0);
  const summary = {
    calls: sessions.length, callsLive: live.size, roomsCreatedAndJoined: roomsJoined, kills: KILLS, rounds,
    rssStartMb: Math.round(rssStartMb), rssEndMb: Math.round(rssEndMb), rssRatio: Number((rssEndMb / rssStartMb).toFixed(3)),
    rssLastProcessRatio: Number((rssEndMb / rssAtRestartMb).toFixed(3)),
  };
  console.log(JSON.stringify(summary));
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/soak-faults.json', `${JSON.stringify(summary, null, 2)}\n`);
  tolk.child.kill('SIGTERM');
  await tolk.exited;
  slow.close();
  failing.close();
  await dispose();
  await lk.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

await main();
