import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { concatSamples, encodeS16le } from '../src/audio/pcm.js';
import { fetchSessionKey, vtUrl } from '../src/client/vt-client.js';
import { loadConfig, type TolkConfig } from '../src/config.js';
import { markSessionActive } from '../src/domain/sessions.js';
import { closeEngines } from '../src/providers/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { librivoxSamples, prewarmRecognizers, testEngines } from './helpers.js';

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };

/** A server on a free loopback port, embedded database in `dataDir` (memory by default), no Redis. */
async function start(overrides: Partial<TolkConfig> = {}, options: Parameters<typeof startServer>[1] = {}): Promise<RunningServer> {
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', ...overrides });
  return startServer({ ...config, databaseUrl: undefined, redisUrl: undefined }, { engines: await testEngines(), ...options });
}

/** Resolves once `condition` holds (checked every 20 ms); rejects after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every entry below `dir` (and `dir` itself) whose mode is not 0700 (directories) or 0600 (files). */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o777;
    if (mode !== (st.isDirectory() ? 0o700 : 0o600)) loose.push(`${mode.toString(8)} ${path.relative(dir, p) || '.'}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return loose;
}

/** A /vt client that records text events, the close, and whether it opened. */
function vtClient(url: string): { ws: WebSocket; events: Array<Record<string, Record<string, unknown>>>; opened: Promise<void>; closed: Promise<{ code: number; reason: string }> } {
  const ws = new WebSocket(url);
  const events: Array<Record<string, Record<string, unknown>>> = [];
  ws.on('message', (d, isBinary) => {
    if (!isBinary) events.push(JSON.parse(d.toString()) as Record<string, Record<string, unknown>>);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, events, opened, closed };
}

/** Sends one raw HTTP request and returns the status and body of the answer. */
function rawRequest(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(Number(port), hostname, () => s.write(request));
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0), body: out.slice(out.indexOf('\r\n\r\n') + 4) }));
  });
}

after(async () => closeEngines(await testEngines()));

describe('hardening: the embedded database files are private', () => {
  it('a new data dir is 0700 with every file 0600, and an existing looser one is tightened at start', { timeout: 120_000 }, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-modes-'));
    const dataDir = path.join(root, 'data');
    try {
      const first = await start({ dataDir }, { adminSocket: true });
      await first.app.inject({ method: 'GET', url: '/api/health/uptime' });
      assert.ok(fs.existsSync(path.join(dataDir, 'pgdata', 'global', 'pg_control')), 'PGlite wrote its files');
      assert.deepEqual(looseEntries(dataDir), [], 'after start');
      await first.close();
      assert.deepEqual(looseEntries(dataDir), [], 'after close');

      // A data dir left by an older Tolk: world-readable and writable.
      const loosen = (p: string): void => {
        const st = fs.lstatSync(p);
        fs.chmodSync(p, st.isDirectory() ? 0o777 : 0o666);
        if (st.isDirectory()) for (const e of fs.readdirSync(p)) loosen(path.join(p, e));
      };
      loosen(dataDir);
      assert.ok(looseEntries(dataDir).some((e) => e.endsWith('pg_control')));
      // Not Tolk's: left as it is (the dir's 0700 hides it).
      const foreign = path.join(dataDir, 'notes.txt');
      fs.writeFileSync(foreign, 'mine');
      fs.chmodSync(foreign, 0o644);
      const second = await start({ dataDir });
      try {
        assert.equal(fs.statSync(foreign).mode & 0o777, 0o644);
        fs.rmSync(foreign);
        assert.deepEqual(looseEntries(dataDir), [], 'after a start on a loose data dir');
        const wal = fs.readdirSync(path.join(dataDir, 'pgdata', 'pg_wal')).find((f) => /^[0-9A-F]{24}$/.test(f));
        assert.ok(wal, 'a WAL segment exists');
        assert.equal(fs.statSync(path.join(dataDir, 'pgdata', 'pg_wal', wal)).mode & 0o777, 0o600);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('hardening: credentials never reach the log', () => {
  it('redacts keys in logged URLs and credential headers', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const server = await start({ logLevel: 'info' }, { logStream: { write: (line: string) => void lines.push(line) } });
    try {
      const apiKey = server.firstOwnerKey ?? '';
      const sessionKey = await fetchSessionKey(server.url, apiKey, 60);
      const client = vtClient(vtUrl(server.url, sessionKey));
      await client.opened;
      client.ws.send(JSON.stringify({ config: CONFIG }));
      await waitFor(() => lines.some((l) => l.includes('"msg":"stream started"')), 'the stream to start');
      client.ws.close();
      await client.closed;
      const listed = await fetch(`${server.url}/api/sessions?Token=t0ken-in-query&API_KEY=${apiKey}&limit=5`, { headers: { authorization: `Bearer ${apiKey}` } });
      assert.equal(listed.status, 200);
      server.app.log.warn({ headers: { authorization: `Bearer ${apiKey}`, cookie: 'sid=c00kie', 'x-vapi-secret': 'vapi-s3cret', 'stripe-signature': 't=1,v1=str1pe', accept: 'application/json' } }, 'headers probe');
      await waitFor(() => lines.some((l) => l.includes('/api/sessions?')), 'the /api request in the log');

      const log = lines.join('');
      for (const secret of [sessionKey, apiKey, 't0ken-in-query', 'c00kie', 'vapi-s3cret', 'str1pe']) assert.ok(!log.includes(secret), `${secret} is in the log`);
      const vtLine = lines.map((l) => JSON.parse(l) as { req?: { url?: string } }).find((l) => l.req?.url?.startsWith('/vt'));
      assert.equal(vtLine?.req?.url, '/vt?authorization=[REDACTED]');
      const apiLine = lines.map((l) => JSON.parse(l) as { req?: { url?: string } }).find((l) => l.req?.url?.startsWith('/api/sessions?'));
      assert.equal(apiLine?.req?.url, '/api/sessions?Token=[REDACTED]&API_KEY=[REDACTED]&limit=5');
      const probe = lines.map((l) => JSON.parse(l) as { msg?: string; headers?: Record<string, string> }).find((l) => l.msg === 'headers probe');
      assert.deepEqual(probe?.headers, { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-vapi-secret': '[REDACTED]', 'stripe-signature': '[REDACTED]', accept: 'application/json' });
    } finally {
      await server.close();
    }
  });
});

describe('hardening: shutdown while a client is throttled', () => {
  it('closes promptly: a paused socket is resumed so the 1001 close completes; a client that never answers is cut', { timeout: 120_000 }, async () => {
    await prewarmRecognizers(2);
    const server = await start({ drainTimeoutMs: 2000 });
    let closing: Promise<void> | undefined;
    try {
      const sessionKey = await fetchSessionKey(server.url, server.firstOwnerKey ?? '', 120);
      // 90 s of speech sent at once, far faster than real time: the server pauses reading.
      const speech = librivoxSamples('0870');
      const audio = concatSamples([speech, speech, speech, speech, speech, speech, speech, speech, speech, speech, speech, speech]);
      const reading = vtClient(vtUrl(server.url, sessionKey));
      const deaf = vtClient(vtUrl(server.url, sessionKey));
      await Promise.all([reading.opened, deaf.opened]);
      for (const c of [reading, deaf]) {
        c.ws.send(JSON.stringify({ config: CONFIG }));
        for (let i = 0; i < audio.length; i += 3200) c.ws.send(encodeS16le(audio.subarray(i, i + 3200)));
      }
      const paused = (): number => [...server.app.websocketServer.clients].filter((c) => c.isPaused).length;
      await waitFor(() => paused() === 2, 'the server to pause both clients');
      deaf.ws.pause(); // this one stops reading: it never answers the close frame

      const t0 = Date.now();
      closing = server.close();
      await closing;
      const elapsedMs = Date.now() - t0;
      const [readingClose, deafClose] = await Promise.all([reading.closed, new Promise<number>((resolve) => {
        deaf.ws.once('close', (code) => resolve(code));
        deaf.ws.resume();
      })]);
      console.log(`closed in ${elapsedMs} ms; reading client ${readingClose.code}, deaf client ${deafClose}`);
      assert.deepEqual(readingClose, { code: 1001, reason: 'Server shutting down' });
      assert.ok(elapsedMs < 10_000, `close took ${elapsedMs} ms (drain timeout 2000 ms)`);
      assert.equal(server.ctx.activeStreams.size, 0);
      assert.ok(!reading.events.some((e) => 'error' in e), JSON.stringify(reading.events.filter((e) => 'error' in e)));
      await assert.rejects(fetch(`${server.url}/api/health`), 'the server is gone');
    } finally {
      if (!closing) await server.close();
    }
  });
});

describe('hardening: sessions left active by a process that died', () => {
  it('are completed, with ended_at, when a process without Redis starts on the same database', { timeout: 120_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-left-active-'));
    try {
      const first = await start({ dataDir });
      const apiKey = first.firstOwnerKey ?? '';
      const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const created = await fetch(`${first.url}/api/sessions`, { method: 'POST', headers: auth, body: JSON.stringify({ source_lang: 'en', target_lang: 'es' }) });
      const { sessionId } = (await created.json()) as { sessionId: string };
      const untouched = await (await fetch(`${first.url}/api/sessions`, { method: 'POST', headers: auth, body: JSON.stringify({ source_lang: 'en', target_lang: 'es' }) })).json() as { sessionId: string };
      // What a stream's first connect does; the process then dies before the stream closes.
      await markSessionActive(first.ctx.db, sessionId);
      const busy = await fetch(`${first.url}/api/sessions/${sessionId}/intelligence`, { headers: auth });
      assert.equal(busy.status, 409);
      await first.close();

      const second = await start({ dataDir });
      try {
        const list = (await (await fetch(`${second.url}/api/sessions`, { headers: auth })).json()) as { sessions: Array<{ id: string; status: string; started_at: string; ended_at: string | null }> };
        const s = list.sessions.find((x) => x.id === sessionId);
        assert.equal(s?.status, 'completed');
        assert.ok(s.ended_at, 'ended_at is set');
        assert.ok(Date.parse(s.ended_at) >= Date.parse(s.started_at));
        assert.equal(list.sessions.find((x) => x.id === untouched.sessionId)?.status, 'created', 'a session never streamed to stays created');
        const intelligence = await fetch(`${second.url}/api/sessions/${sessionId}/intelligence`, { headers: auth });
        assert.equal(intelligence.status, 200);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('hardening: input limits', () => {
  let server: RunningServer;
  let url: string;
  before(async () => {
    server = await start();
    url = vtUrl(server.url, await fetchSessionKey(server.url, server.firstOwnerKey ?? '', 600));
  });
  after(async () => server.close());

  it('a reference_id over 128 characters → error 400 naming the field, close 4400; 128 are echoed', { timeout: 120_000 }, async () => {
    const long = vtClient(url);
    await long.opened;
    long.ws.send(JSON.stringify({ config: { ...CONFIG, metadata: { reference_id: 'r'.repeat(129) } } }));
    const closed = await long.closed;
    assert.equal(closed.code, 4400);
    assert.equal(long.events.length, 1);
    assert.equal(long.events[0]?.error?.code, 400);
    assert.match(String(long.events[0]?.error?.description), /config\.metadata\.reference_id.*128 characters/);
    assert.equal(long.events[0]?.error?.reference_id, undefined, 'the refused value is not echoed');

    const ok = vtClient(url);
    await ok.opened;
    ok.ws.send(JSON.stringify({ config: { ...CONFIG, metadata: { reference_id: 'r'.repeat(128) } } }));
    ok.ws.send(JSON.stringify({ config: CONFIG }));
    await waitFor(() => ok.events.length > 0, 'the error event of the second config');
    assert.equal(ok.events[0]?.error?.code, 400);
    assert.equal(ok.events[0]?.error?.reference_id, 'r'.repeat(128));
    ok.ws.close();
    assert.equal((await ok.closed).code, 1005);
  });

  it('audio sent before the stream starts is bounded by duration: 31 s at 16 kHz → 429, 25 s is streamed', { timeout: 120_000 }, async () => {
    // Hold the start of every stream (leg 2) until released, as a slow worker would.
    const workers = server.ctx.workers;
    const open = workers.open.bind(workers);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    workers.open = async (...args) => {
      await gate;
      return open(...args);
    };
    const second = (s: number): Buffer => encodeS16le(new Int16Array(16_000 * s));
    try {
      const flood = vtClient(url);
      await flood.opened;
      flood.ws.send(JSON.stringify({ config: CONFIG }));
      for (let s = 0; s < 31; s++) flood.ws.send(second(1));
      const closed = await flood.closed;
      assert.equal(closed.code, 4429);
      assert.equal(flood.events[0]?.error?.code, 429);
      assert.match(String(flood.events[0]?.error?.description), /Too much audio before the stream started: more than 30 s at 16000 Hz/);

      const speech = librivoxSamples('0870');
      const early = concatSamples([speech, new Int16Array(16_000 * 25 - speech.length)]);
      const patient = vtClient(url);
      await patient.opened;
      patient.ws.send(JSON.stringify({ config: CONFIG }));
      for (let i = 0; i < early.length; i += 16_000) patient.ws.send(encodeS16le(early.subarray(i, i + 16_000)));
      await waitFor(() => server.ctx.activeStreams.size === 1, 'the stream to be admitted');
      release();
      await waitFor(() => patient.events.some((e) => e.transcript?.final === true), 'a final transcript of the early audio');
      const final = patient.events.find((e) => e.transcript?.final === true);
      assert.match(String(final?.transcript?.text), /\w+ \w+/);
      assert.ok(!patient.events.some((e) => 'error' in e), JSON.stringify(patient.events));
      patient.ws.close();
      await patient.closed;
    } finally {
      release();
      workers.open = open;
    }
  });

  it('router errors under /api use spec 000 error shape: long or malformed path parameters, a URL over 16 KB, unknown routes', { timeout: 120_000 }, async () => {
    const auth = { authorization: `Bearer ${server.firstOwnerKey ?? ''}` };
    const long = await fetch(`${server.url}/api/sessions/${'x'.repeat(5000)}/escalate`, { method: 'POST', headers: auth });
    assert.equal(long.status, 400);
    assert.deepEqual(await long.json(), { error: { code: 'BAD_REQUEST', message: 'A path parameter is longer than 100 characters' } });
    const malformed = await fetch(`${server.url}/api/sessions/%zz/escalate`, { method: 'POST', headers: auth });
    assert.equal(malformed.status, 400);
    assert.deepEqual(await malformed.json(), { error: { code: 'BAD_REQUEST', message: 'Malformed URL: a path segment is not valid percent-encoding' } });
    const huge = await rawRequest(server.url, `GET /api/sessions?x=${'y'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${server.firstOwnerKey ?? ''}\r\n\r\n`);
    assert.equal(huge.status, 400);
    assert.deepEqual(JSON.parse(huge.body), { error: { code: 'BAD_REQUEST', message: 'The request line and headers exceed the 16 KB limit' } });
    const unknown = await fetch(`${server.url}/api/${'z'.repeat(5000)}`, { headers: auth });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: { code: 'NOT_FOUND', message: `No route GET /api/${'z'.repeat(5000)}` } });
    // The stream surface keeps its own shape.
    const token = await rawRequest(server.url, `GET /v2/sdk/voice-translation/session/token?x=${'y'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    assert.equal(token.status, 400);
    assert.deepEqual(JSON.parse(token.body), { error: { code: 400, reason: 'Bad Request', description: 'The request line and headers exceed the 16 KB limit' } });
  });
});
