import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import WebSocket from 'ws';
import { concatSamples } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resampler.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent, type StreamAudioResult } from '../src/client/vt-client.js';
import { LEG2_PATH, WORKER_SECRET_HEADER } from '../src/realtime/leg2-protocol.js';
import { createScratchDatabase, freePort, librivoxRecordings, loadWav, testPostgresUrl, testRedisUrl } from './helpers.js';
import { Peer } from './room-peer.js';

// `make test` runs this file with both set when Postgres and Redis answer (and fails under CI=true
// when they do not): the scale-out needs a shared database and the worker registry in Redis.
const skip = testPostgresUrl() && testRedisUrl() ? false : 'Postgres and Redis not configured (TOLK_TEST_DATABASE_URL, TOLK_TEST_REDIS_URL): the scale-out test needs both';

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
type Final = Extract<ReceivedEvent, { kind: 'transcript' }>;
const finalsOf = (events: ReceivedEvent[]): Final[] => events.filter((e): e is Final => e.kind === 'transcript' && e.final);
const errorsOf = (events: ReceivedEvent[]) => events.filter((e): e is Extract<ReceivedEvent, { kind: 'error' }> => e.kind === 'error');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** LibriVox recordings by id suffix, one after another with 0.8 s pauses, at 16 kHz. */
function speech(ids: string[]): Int16Array {
  const parts: Int16Array[] = [];
  for (const id of ids) {
    const r = librivoxRecordings().find((x) => x.id.endsWith(id));
    assert.ok(r, id);
    const { samples, sampleRateHz } = loadWav(r.path);
    parts.push(resample(samples, sampleRateHz, 16000), new Int16Array(12_800));
  }
  return concatSamples(parts);
}


async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** One sample of a Prometheus text, e.g. `tolk_worker_registry_size`. */
async function metric(baseUrl: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

interface Proc { name: string; child: ChildProcess; url: string; port: number; stdout: string; stderr: string; exited: Promise<number | null> }

describe('scale-out: 2 gateways + 2 workers as processes on Postgres and Redis (spec 002 Parts 2–3)', { skip }, () => {
  const secret = randomBytes(24).toString('hex');
  const procs: Proc[] = [];
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dataDir = '';
  let ownerKey = '';
  let g1: Proc;
  let g2: Proc;
  let workers: Proc[] = [];

  /** Starts `tolk serve` with its own data dir, not created yet (with DATABASE_URL, the server makes it for its admin socket). */
  async function spawnTolk(name: string, role: 'gateway' | 'worker', env: Record<string, string>): Promise<Proc> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', role, '--port', String(port), '--host', '127.0.0.1', '--data-dir', path.join(dataDir, name.replace(' ', '-'))], {
      env: { ...process.env, LOG_LEVEL: 'warn', REDIS_URL: testRedisUrl(), TOLK_WORKER_SECRET: secret, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p: Proc = { name, child, port, url: `http://127.0.0.1:${port}`, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    child.stdout?.on('data', (d: Buffer) => (p.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (p.stderr += d.toString()));
    procs.push(p);
    return p;
  }

  async function healthy(p: Proc): Promise<void> {
    await until(`${p.name} healthy`, async () => {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited ${p.child.exitCode}: ${p.stderr.slice(-2000)}`);
      return (await fetch(`${p.url}/api/health`)).ok;
    }, 90_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${p.stderr.slice(-2000)}`);
    });
  }

  /** Live leg-2 streams of each worker (its own /metrics). */
  const workerLoads = async (): Promise<number[]> => Promise.all(workers.map(async (w) => (await metric(w.url, 'tolk_streams_active{surface="leg2"}')) ?? 0));

  before(async () => {
    scratch = await createScratchDatabase(testPostgresUrl() ?? '');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-scaleout-'));
    const workerEnv = { LOG_LEVEL: process.env.TOLK_TEST_WORKER_LOG_LEVEL ?? 'warn', TOLK_MAX_STREAMS: '4', TOLK_STT_IDLE_DECODERS: '2', TOLK_DRAIN_TIMEOUT_MS: '8000' };
    workers = [await spawnTolk('worker 1', 'worker', workerEnv), await spawnTolk('worker 2', 'worker', workerEnv)];
    g1 = await spawnTolk('gateway 1', 'gateway', { DATABASE_URL: scratch.url, TOLK_STT_IDLE_DECODERS: '0' });
    await healthy(g1);
    await until('the owner key', async () => /ip_live_\w{32}/.test(g1.stdout));
    ownerKey = /ip_live_\w{32}/.exec(g1.stdout)?.[0] ?? '';
    // Started after the first owns the empty database: only one owner key is bootstrapped.
    g2 = await spawnTolk('gateway 2', 'gateway', { DATABASE_URL: scratch.url, TOLK_STT_IDLE_DECODERS: '0' });
    await Promise.all([healthy(g2), ...workers.map(healthy)]);
    await until('both workers in the registry', async () => (await metric(g1.url, 'tolk_worker_registry_size')) === 2);
  });

  after(async () => {
    if (process.env.TOLK_TEST_KEEP_LOGS) for (const p of procs) fs.writeFileSync(path.join(os.tmpdir(), `tolk-scaleout-${p.name.replace(' ', '')}.log`), p.stdout + p.stderr);
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await scratch?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a worker refuses leg 2 without the shared secret (401) and a malformed config (4400)', async () => {
    const leg2 = `ws://127.0.0.1:${workers[0]?.port}${LEG2_PATH}`;
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(leg2);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('opened without the secret')));
      ws.once('error', () => {});
    });
    assert.equal(status, 401);
    const ws = new WebSocket(leg2, { headers: { [WORKER_SECRET_HEADER]: secret } });
    const first = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    ws.send(JSON.stringify({ request_id: 'api-1-x', source_lang: 'en-US' }));
    assert.equal((JSON.parse(await first) as { error: { code: number } }).error.code, 400);
    assert.equal(await closed, 4400);
  });

  /** Leg-2 streams the workers have acknowledged since they started (their own /metrics). */
  const acknowledged = async (): Promise<number> =>
    (await Promise.all(workers.map(async (w) => (await metric(w.url, 'tolk_streams_started_total{surface="leg2"}')) ?? 0))).reduce((a, b) => a + b, 0);

  it('a conversation room with A on gateway 1 and B on gateway 2: speech recognized on a worker, the final and speech reach B in Spanish', async () => {
    const created = await fetch(`${g1.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    assert.equal(created.status, 200);
    const id = ((await created.json()) as { conversation_id: string }).conversation_id;
    const ackedBefore = await acknowledged();
    const a = await Peer.join(g1.url, id, 'en-US');
    const b = await Peer.join(g2.url, id, 'es');
    await a.until('A sees B', () => a.counts('user_joined').includes(2));
    assert.deepEqual(b.counts('user_joined'), [2]);
    assert.deepEqual(b.json.filter((m) => m.type === 'partner_language').map((m) => m.lang), ['en-US']);
    await a.speak(speech(['0880']));
    await b.until('B gets the final', () => b.finals().length >= 1, 30_000);
    await a.until('A gets the final', () => a.finals().length >= 1);
    const mine = a.finals()[0] as { original: string; utterance_id: string };
    const theirs = b.finals()[0] as { is_mine: boolean; original: string; translation: string; utterance_id: string; latency_ms: number };
    assert.match(mine.original, /young man/);
    assert.equal(theirs.is_mine, false);
    assert.equal(theirs.original, mine.original);
    assert.equal(theirs.utterance_id, mine.utterance_id);
    assert.ok(theirs.translation.length > 0 && theirs.translation !== theirs.original, `translated: ${theirs.translation}`);
    assert.ok(a.json.some((m) => m.is_interim === true), 'the speaker sees interims');
    await b.until('translated speech for B', () => b.audioBytes > 16000);
    assert.equal(a.audioBytes, 0, 'the speaker does not hear their own translation');
    console.log(`# room across gateways: "${theirs.original}" → "${theirs.translation}", ${theirs.latency_ms} ms end of speech → B's translation`);
    // The recognizer ran on a worker (docs/architecture.md "Processes"), not on either gateway.
    assert.equal(await acknowledged(), ackedBefore + 1, 'one leg-2 stream: A\'s recognizer (B did not speak)');
    for (const g of [g1, g2]) assert.equal((await metric(g.url, 'tolk_stt_audio_seconds_total')) ?? 0, 0, `${g.name} recognized nothing itself`);
    const rssMb = async (p: Proc) => Math.round(((await metric(p.url, 'tolk_process_resident_memory_bytes')) ?? 0) / 2 ** 20);
    console.log(`# resident memory: gateways ${await rssMb(g1)} / ${await rssMb(g2)} MB, workers ${await rssMb(workers[0] as Proc)} / ${await rssMb(workers[1] as Proc)} MB`);
    await a.close();
    await b.until('A left', () => b.counts('user_left').includes(1));
    await b.close();
    await until('the recognizer released', async () => (await workerLoads()).every((n) => n === 0), 10_000);
  });

  it('one session streaming through both gateways: completed only when its last stream closes; a revoke through gateway 1 ends the stream on gateway 2', async () => {
    const created = await fetch(`${g1.url}/api/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_lang: 'en', target_lang: 'es', speaker_name: 'Dr. Presence' }),
    });
    assert.equal(created.status, 200);
    const session = (await created.json()) as { sessionId: string; participantId: string; streamToken: string };
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const status = async (): Promise<string> => (await db.query('select status from sessions where id = $1', [session.sessionId])).rows[0]?.status as string;
    try {
      let revokeAtMs = 0;
      let longLive!: () => void;
      const longStarted = new Promise<void>((resolve) => (longLive = resolve));
      // The same participant's two streams: a long one on gateway 2, a short one on gateway 1.
      const long = streamAudio({
        url: vtUrl(g2.url, session.streamToken), config: { ...CONFIG, transcript: { interim: true } }, samples: speech(['0880', '0890', '0870', '0920']), sampleRateHz: 16000,
        onEvent: () => longLive(),
      });
      await longStarted;
      const short = await streamAudio({ url: vtUrl(g1.url, session.streamToken), config: CONFIG, samples: speech(['0930']), sampleRateHz: 16000 });
      assert.deepEqual(errorsOf(short.events), []);
      assert.equal(short.closeCode, 1000);
      await sleep(300);
      assert.equal(await status(), 'active', 'gateway 1 closed its stream, but gateway 2 still has one');

      revokeAtMs = Date.now();
      const revoked = await fetch(`${g1.url}/api/sessions/${session.sessionId}/revoke/${session.participantId}`, { method: 'POST', headers: { authorization: `Bearer ${ownerKey}` } });
      assert.equal(revoked.status, 200);
      const result = await long;
      const [error] = errorsOf(result.events);
      assert.equal(error?.code, 403, JSON.stringify(result.events.slice(-3)));
      assert.equal(result.closeCode, 4403);
      console.log(`# revoke sent to gateway 1 ended the stream on gateway 2 ${error.atMs - revokeAtMs} ms later`);
      assert.ok(error.atMs - revokeAtMs < 2000);
      await until('the session completed', async () => (await status()) === 'completed', 5000);
      const audit = await db.query<{ detail: { disconnectedStreams: number } }>("select detail from audit_log where action = 'session.participant_revoked' and target_id = $1", [session.participantId]);
      assert.equal(audit.rows[0]?.detail.disconnectedStreams, 1, 'the audit counts the stream on the other gateway');
    } finally {
      await db.end();
    }
  });

  it('the organization\'s concurrency limit spans gateways: a stream on gateway 1 holds the only slot, gateway 2 answers 429', async () => {
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    try {
      await db.query('update organizations set max_concurrent_streams = 1');
      let live!: () => void;
      const holding = new Promise<void>((resolve) => (live = resolve));
      const holder = streamAudio({ url: vtUrl(g1.url, await fetchSessionKey(g1.url, ownerKey, 120)), config: CONFIG, samples: speech(['0880']), sampleRateHz: 16000, onEvent: () => live() });
      await holding;
      const over = await streamAudio({ url: vtUrl(g2.url, await fetchSessionKey(g2.url, ownerKey, 120)), config: CONFIG, samples: new Int16Array(16000), sampleRateHz: 16000, realtime: false, timeoutMs: 10_000 });
      assert.deepEqual(errorsOf(over.events).map((e) => [e.code, e.description]), [[429, 'Max concurrent connections exceeded (1 for this organization)']]);
      assert.equal(over.closeCode, 4429);
      const held = await holder;
      assert.deepEqual(errorsOf(held.events), [], 'the stream holding the slot is unaffected');
      assert.ok(held.events.some((e) => e.kind === 'translate'));
    } finally {
      await db.query('update organizations set max_concurrent_streams = null');
      await db.end();
    }
  });

  it('SIGKILL of a worker mid-utterance: its clients get error 500 + close 4500 within 5 s, the others finish, no final seen is lost', async () => {
    const created = await fetch(`${g1.url}/api/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_lang: 'en', target_lang: 'es', speaker_name: 'Dr. Scale' }),
    });
    assert.equal(created.status, 200);
    const session = (await created.json()) as { sessionId: string; streamToken: string };
    const ackedBefore = await acknowledged();
    let killAtMs = 0;
    const placement: { victim?: Proc; allStarted?: boolean } = {};
    const seen: ReceivedEvent[] = [];
    // The platform session streams through gateway 2 with a token gateway 1 issued (shared state in Redis).
    const platform = streamAudio({
      url: vtUrl(g2.url, session.streamToken), config: { ...CONFIG, transcript: { interim: true } }, samples: speech(['0880', '0890', '0870', '0920', '0930']), sampleRateHz: 16000,
      onEvent: (e) => {
        seen.push(e);
        const translated = seen.some((x) => x.kind === 'translate');
        if (!killAtMs && placement.victim && placement.allStarted && translated && e.kind === 'transcript' && !e.final) {
          killAtMs = Date.now();
          placement.victim.child.kill('SIGKILL');
        }
      },
    });
    await until('the platform stream acknowledged', async () => (await acknowledged()) === ackedBefore + 1);
    const victim = workers[(await workerLoads()).indexOf(1)];
    assert.ok(victim);
    placement.victim = victim;
    // Three more streams, spread by load: each starts once the previous one is acknowledged (a
    // worker without an idle recognizer takes seconds to load one).
    const others: Array<Promise<StreamAudioResult>> = [];
    for (const [i, via] of [g1, g2, g1].entries()) {
      const key = await fetchSessionKey(g1.url, ownerKey, 120);
      others.push(streamAudio({ url: vtUrl(via.url, key), config: CONFIG, samples: speech(i === 1 ? ['0920', '0930', '0880', '0890'] : ['0890', '0870', '0930', '0920']), sampleRateHz: 16000 }));
      await until(`stream ${i + 2} acknowledged`, async () => (await acknowledged()) === ackedBefore + i + 2, 40_000);
    }
    const loads = await workerLoads();
    assert.deepEqual([...loads].sort(), [2, 2], 'least-loaded placement');
    const victimLoad = loads[workers.indexOf(victim)] ?? 0;
    placement.allStarted = true;
    const results = [await platform, ...(await Promise.all(others))];
    assert.ok(killAtMs > 0, 'the worker was killed mid-utterance');
    console.log(`# killed ${victim.name} mid-utterance; closes: ${results.map((r) => `${r.closeCode} ${JSON.stringify(errorsOf(r.events).map((e) => [e.code, e.description, e.atMs - killAtMs]))}`).join(', ')}`);

    const failed = results.filter((r) => errorsOf(r.events).length > 0);
    const finished = results.filter((r) => errorsOf(r.events).length === 0);
    assert.equal(failed.length, victimLoad, 'every stream of the victim failed, and only those');
    assert.ok(failed.includes(results[0] as StreamAudioResult), 'the platform stream was on the victim');
    for (const r of failed) {
      const [error] = errorsOf(r.events);
      assert.ok(error);
      assert.equal(error.code, 500);
      assert.equal(r.closeCode, 4500);
      console.log(`#   error event ${error.atMs - killAtMs} ms after the kill: ${error.description}`);
      assert.ok(error.atMs - killAtMs < 5000, `error ${error.atMs - killAtMs} ms after the kill`);
    }
    for (const r of finished) {
      assert.equal(r.closeCode, 1000);
      assert.ok(finalsOf(r.events).length >= 2, 'the surviving stream got its finals');
      assert.ok(r.events.some((e) => e.kind === 'translate' && e.text.length > 0), 'and translations');
      assert.ok(r.audio.length > 0, 'and speech');
    }

    // Every final the platform client saw is stored (recorded on send, by the gateway).
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    try {
      await until('the session completed', async () => (await db.query('select status from sessions where id = $1', [session.sessionId])).rows[0]?.status === 'completed');
      const rows = (await db.query<{ id: string; text: string; translation: string | null }>('select id, text, translation from utterances where session_id = $1', [session.sessionId])).rows;
      const finals = finalsOf(results[0]?.events ?? []);
      console.log(`# platform stream: ${finals.length} finals seen before the kill, ${rows.length} stored`);
      assert.ok(finals.length >= 1);
      assert.deepEqual(rows.map((r) => [r.id, r.text]).sort(), finals.map((f) => [f.utteranceId, f.text]).sort());
    } finally {
      await db.end();
    }

    await until('the dead worker left the registry', async () => (await metric(g2.url, 'tolk_worker_registry_size')) === 1, 6000);
    assert.ok(((await metric(g2.url, 'tolk_leg2_failures_total{reason="died"}')) ?? 0) >= 1);
  });

  it('a new stream runs on the remaining worker; its SIGTERM lets the utterance in flight finish, then close 1001', async () => {
    const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null);
    assert.ok(survivor);
    const key = await fetchSessionKey(g2.url, ownerKey, 120);
    let sigtermAtMs = 0;
    let inFlight = '';
    const seen: ReceivedEvent[] = [];
    const result = await streamAudio({
      url: vtUrl(g1.url, key), config: { ...CONFIG, transcript: { interim: true } }, samples: speech(['0880', '0870', '0920']), sampleRateHz: 16000,
      onEvent: (e) => {
        seen.push(e);
        if (!sigtermAtMs && seen.some((x) => x.kind === 'translate') && e.kind === 'transcript' && !e.final) {
          sigtermAtMs = Date.now();
          inFlight = e.utteranceId;
          survivor.child.kill('SIGTERM');
        }
      },
    });
    assert.ok(sigtermAtMs > 0, 'SIGTERM came mid-utterance');
    const final = finalsOf(result.events).find((f) => f.utteranceId === inFlight);
    const translation = result.events.find((e) => e.kind === 'translate' && e.utteranceId === inFlight);
    console.log(`# after SIGTERM: final "${final?.text}", close ${result.closeCode} ${Date.now() - sigtermAtMs} ms later`);
    assert.ok(final && final.atMs >= sigtermAtMs, 'the utterance in flight got its final after SIGTERM');
    assert.ok(translation, 'and its translation');
    assert.equal(errorsOf(result.events).length, 0, JSON.stringify(errorsOf(result.events)));
    assert.equal(result.closeCode, 1001);
    assert.equal(await survivor.exited, 0);

    // No worker left: the documented 500 and close 4500, not a hang.
    const none = await streamAudio({ url: vtUrl(g1.url, key), config: CONFIG, samples: new Int16Array(16000), sampleRateHz: 16000, realtime: false, timeoutMs: 10_000 });
    const [error] = errorsOf(none.events);
    assert.equal(error?.code, 500);
    assert.equal(none.closeCode, 4500);
  });
});
