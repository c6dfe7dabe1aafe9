import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import pg from 'pg';
import { readWav } from '../src/audio/wav.js';
import { loadConfig, type TolkConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import type { LogStream } from '../src/logging.js';
import { closeEngines, createOfflineEngines } from '../src/providers/index.js';
import { RoutedStt } from '../src/providers/routing/routed-stt.js';
import { PocketsphinxStt } from '../src/providers/stt/pocketsphinx.js';
import type { Engines } from '../src/providers/registry.js';
import { startServer, type RunningServer } from '../src/server.js';

/** Debian's pocketsphinx-testdata LibriVox recordings. */
export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

/** The five LibriVox recordings with their reference transcripts. */
export function librivoxRecordings(): Array<{ id: string; path: string; reference: string }> {
  const lines = fs.readFileSync(`${LIBRIVOX_DIR}/transcription`, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const m = /^<s> (.*) <\/s> \((.*)\)$/.exec(line.trim());
    if (!m?.[1] || !m[2]) throw new Error(`unexpected transcription line: ${line}`);
    return { id: m[2], path: `${LIBRIVOX_DIR}/${m[2]}.wav`, reference: m[1] };
  });
}

/** Reads a WAV file as mono s16. */
export function loadWav(path: string): { samples: Int16Array; sampleRateHz: number } {
  return readWav(fs.readFileSync(path));
}

/** Word-level edit distance between two transcripts. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return { errors: prev[h.length] ?? 0, words: r.length };
}

function normalizeWords(text: string): string[] {
  return text.toLowerCase().replace(/\(\d+\)/g, '').split(/\s+/).filter(Boolean);
}

/** Transcribes a file with the `pocketsphinx_continuous` CLI and its default settings (the WER baseline). */
export function pocketsphinxContinuous(path: string): string {
  const m = '/usr/share/pocketsphinx/model/en-us';
  const out = execFileSync(
    'pocketsphinx_continuous',
    ['-infile', path, '-hmm', `${m}/en-us`, '-lm', `${m}/en-us.lm.bin`, '-dict', `${m}/cmudict-en-us.dict`, '-logfn', '/dev/null'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return out.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

let sharedEngines: Promise<Engines> | undefined;

/**
 * Engines shared by every server of one test file (loading them is the slow part). Up to 8
 * recognizers stay loaded between streams, as on a server sized for a few concurrent streams; a test
 * that opens several streams at once loads them first with `prewarm`.
 */
export function testEngines(): Promise<Engines> {
  sharedEngines ??= createOfflineEngines({ idleDecoders: 8 });
  return sharedEngines;
}

/**
 * Closes the shared engines when a test file made them: their MT and TTS child processes and
 * recognizer threads would otherwise keep the file's process alive after its tests. Use as
 * `after(closeTestEngines)`.
 */
export async function closeTestEngines(): Promise<void> {
  const engines = sharedEngines;
  sharedEngines = undefined;
  if (engines) await closeEngines(await engines);
}

/** Loads `count` recognizers before a test opens that many streams at once. */
export async function prewarmRecognizers(count: number): Promise<void> {
  const { stt } = await testEngines();
  if (stt instanceof RoutedStt || stt instanceof PocketsphinxStt) await stt.prewarm(count);
}

/**
 * The Postgres server the service-backed run uses (`TOLK_TEST_DATABASE_URL`, set by `make test` when
 * Postgres answers, required under `CI=true`), or undefined for the embedded default.
 */
export function testPostgresUrl(): string | undefined {
  return process.env.TOLK_TEST_DATABASE_URL || undefined;
}

/** The Redis server of the service-backed run (`TOLK_TEST_REDIS_URL`), or undefined. */
export function testRedisUrl(): string | undefined {
  return process.env.TOLK_TEST_REDIS_URL || undefined;
}

/**
 * Creates an empty database on the test Postgres server and returns its URL and how to drop it:
 * each test server gets its own, so runs never see each other's rows.
 */
export async function createScratchDatabase(serverUrlIn: string, options: { migrate?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const parsed = new URL(serverUrlIn);
  if (!parsed.username) parsed.username = os.userInfo().username; // trust auth as the local user
  const serverUrl = parsed.toString();
  const name = `tolk_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // As an operator would: `tolk migrate`, then start the servers.
  if (options.migrate !== false) await (await openDatabase({ dataDir: 'memory://', databaseUrl: url.toString(), migrate: true })).close();
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        // Wait for the test's own pools to finish disconnecting: forcing them off makes their
        // sockets emit errors after the test ended. FORCE only after 5 s (a leaked connection).
        for (let waited = 0; waited < 5000; waited += 100) {
          const open = await c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
          if (Number(open.rows[0]?.n ?? 0) === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Starts a server on a free loopback port with an owner key: on an in-memory PGlite database, or on
 * a fresh Postgres database (dropped on close) when `TOLK_TEST_DATABASE_URL` is set, with Redis when
 * `TOLK_TEST_REDIS_URL` is set. `options.logStream` receives the server's log lines (JSON) instead of stdout.
 */
export async function startTestServer(overrides: Partial<TolkConfig> = {}, options: { logStream?: LogStream } = {}): Promise<RunningServer & { apiKey: string }> {
  const pgUrl = overrides.databaseUrl === undefined ? testPostgresUrl() : undefined;
  const scratch = pgUrl ? await createScratchDatabase(pgUrl) : undefined;
  // Streams are not shed for falling behind (the shared test machine is often slower than real
  // time); test/capacity.test.ts and src/realtime/realtime-budget.test.ts test shedding.
  const capacity = { ...loadConfig({}).capacity, maxBacklogMs: 600_000 };
  const config = loadConfig({}, {
    port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn',
    databaseUrl: scratch?.url, redisUrl: testRedisUrl(), capacity, ...overrides,
  });
  const server = await startServer(config, { engines: await testEngines(), logStream: options.logStream });
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

/** A TCP port free on 127.0.0.1 right now, for a server started in a child process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The samples of the LibriVox recording whose id ends with `idSuffix` (at the file's rate, 16 kHz).
 * @throws {Error} when there is no such recording.
 */
export function librivoxSamples(idSuffix: string): Int16Array {
  const r = librivoxRecordings().find((x) => x.id.endsWith(idSuffix));
  if (!r) throw new Error(`no recording ${idSuffix}`);
  return loadWav(r.path).samples;
}

/** Counts `engines.mt.translate` calls per target language until `restore()` (every server sharing `engines` counts). */
export function countTranslations(engines: Engines): { counts: Map<string, number>; restore(): void } {
  const original = engines.mt.translate.bind(engines.mt);
  const counts = new Map<string, number>();
  engines.mt.translate = (input, pair) => {
    counts.set(pair.target, (counts.get(pair.target) ?? 0) + 1);
    return original(input, pair);
  };
  return { counts, restore: () => void (engines.mt.translate = original) };
}
