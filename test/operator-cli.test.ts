import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

// The operator's CLI against a real `tolk serve` process (docs/operations.md "Data dir"): one
// process per embedded data dir, the CLI finding the running server's data from any folder, and
// keys list / revoke, orgs list.

const CLI = path.resolve('src/cli/main.ts');
/** tsx by URL: the CLI runs from other folders too. */
const TSX = import.meta.resolve('tsx');

interface Run { code: number; stdout: string; stderr: string }

/** Runs the CLI in `cwd` with `env` (TOLK_DATA_DIR removed unless given). */
async function tolk(args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('TOLK_DATA_DIR' in env)) delete childEnv.TOLK_DATA_DIR;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', TSX, CLI, ...args], { cwd, encoding: 'utf8', timeout: 90_000, env: childEnv });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts `tolk serve` and resolves with the process, its URL and its owner key once it listens. */
async function serve(dataDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; ownerKey: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, LOG_LEVEL: 'info', TOLK_STT_IDLE_DECODERS: '0' };
  delete childEnv.TOLK_DATA_DIR;
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const listening = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"tolk listening"/.exec(out);
      if (listening?.[1]) resolve({ child, url: listening[1], ownerKey: /ip_live_[0-9A-Za-z]{32}/.exec(out)?.[0] ?? '' });
    });
    child.on('exit', (code) => reject(new Error(`tolk serve exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

function tokenStatus(url: string, key: string): Promise<number> {
  return fetch(`${url}/v2/sdk/voice-translation/session/token`, { headers: { authorization: `api-key ${key}` } }).then((r) => r.status);
}

it('one tolk serve per data dir; keys create/list/revoke and orgs list from another folder reach the running server, and say so', { timeout: 240_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-operator-'));
  const dataDir = path.join(root, 'server-data');
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  const env = { XDG_RUNTIME_DIR: path.join(root, 'runtime') };
  const first = await serve(dataDir, env);
  try {
    assert.match(first.ownerKey, /^ip_live_/, 'the owner key is printed');
    // A second server on the same data dir refuses, naming the first one's pid.
    const second = await tolk(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], elsewhere, env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`^tolk: the data dir ${dataDir} is in use by another Tolk process \\(pid ${first.child.pid}, "tolk serve", since .+\\): its embedded database allows one process`));

    // From another folder, without --data-dir: the running server's data, through its admin socket.
    const created = await tolk(['keys', 'create', '--org', 'acme', '--name', 'ci', '--json'], elsewhere, env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stderr, `Through the running server (pid ${first.child.pid}) on data dir ${dataDir} (from the running tolk serve (pid ${first.child.pid}, ${first.url})).\n`);
    const key = JSON.parse(created.stdout) as { id: string; key: string };
    assert.equal(await tokenStatus(first.url, key.key), 200, 'the running server accepts the key');
    assert.equal(fs.existsSync(path.join(elsewhere, '.tolk')), false, 'no database was created in the current folder');

    const listed = await tolk(['keys', 'list'], elsewhere, env);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^ID +KEY +ORGANIZATION +ROLE +NAME +LAST USED$/);
    const acme = lines.find((l) => l.includes(key.id)) ?? '';
    assert.match(acme, new RegExp(`^${key.id} +${key.key.slice(0, 12)}… +acme +member +ci +\\d{4}-`));
    const owner = lines.find((l) => l.includes(' default ')) ?? '';
    assert.match(owner, new RegExp(`${first.ownerKey.slice(0, 12)}… +default +owner +owner +`));
    assert.ok(!listed.stdout.includes(key.key.slice(12)), 'never the key itself');

    const orgs = await tolk(['orgs', 'list', '--json'], elsewhere, env);
    assert.deepEqual((JSON.parse(orgs.stdout) as Array<{ name: string; keys: number; tier: number }>).map((o) => [o.name, o.keys, o.tier]), [['default', 1, 1], ['acme', 1, 1]]);

    const revoked = await tolk(['keys', 'revoke', key.id], elsewhere, env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `Revoked member key "ci" (${key.key.slice(0, 12)}…) of organization acme\n`);
    assert.equal(await tokenStatus(first.url, key.key), 401, 'a revoked key is refused at once');
    const again = await tolk(['keys', 'revoke', key.id], elsewhere, env);
    assert.deepEqual([again.code, again.stderr.split('\n').at(-2)], [1, `tolk: no live API key with id ${key.id} (tolk keys list shows them)`]);
  } finally {
    await stop(first.child);
  }
  // No server any more: the CLI says plainly that it creates a new database, and where.
  const lonely = await tolk(['keys', 'create', '--org', 'acme'], elsewhere, env);
  assert.equal(lonely.code, 0, lonely.stderr);
  assert.match(lonely.stderr, new RegExp(`^No running Tolk server answers on ${path.join(elsewhere, '.tolk')} \\(from the default \\./\\.tolk \\(no running tolk serve found\\)\\) and it holds no database: creating a NEW, EMPTY database there`));
  // The server's data dir, named: written to its files, and said so.
  const direct = await tolk(['keys', 'list', '--org', 'acme', '--data-dir', dataDir], elsewhere, env);
  assert.match(direct.stderr, new RegExp(`^No running Tolk server answers on ${dataDir} \\(from --data-dir\\): working on its database files directly`));
  assert.equal(direct.stdout, 'no API keys\n', 'the revoked key is not listed');
  fs.rmSync(root, { recursive: true, force: true });
});

it('a lock left by a dead process is taken over', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-stale-'));
  const dead = spawn(process.execPath, ['-e', '0']);
  await once(dead, 'exit');
  fs.writeFileSync(path.join(dataDir, 'tolk.lock'), JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString(), command: 'tolk serve' }));
  const run = await tolk(['orgs', 'list', '--data-dir', dataDir], os.tmpdir(), {});
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'no organizations\n');
  assert.equal(fs.existsSync(path.join(dataDir, 'tolk.lock')), false, 'released on exit');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('tolk --version; orgs set refuses an engine that does not exist and a tier beyond 2', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-refuse-'));
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal((await tolk(['--version'], os.tmpdir(), {})).stdout, `${pkg.version}\n`);
  const whisper = await tolk(['orgs', 'set', '--org', 'acme', '--stt', 'whisper', '--data-dir', dataDir], os.tmpdir(), {});
  assert.equal(whisper.code, 1);
  assert.equal(whisper.stderr, 'tolk: --stt whisper: there is no stt engine "whisper". Modules of this build: pocketsphinx, openai, soniox (tolk engines; docs/engines.md)\n');
  const tier = await tolk(['orgs', 'set', '--org', 'acme', '--tier', '5', '--data-dir', dataDir], os.tmpdir(), {});
  assert.equal(tier.code, 1);
  assert.match(tier.stderr, /option '--tier <n>' argument '5' is invalid\. a tier is one of 0 \(transcription\), 1 \(standard\), 2 \(standard\)/);
  assert.equal(fs.existsSync(path.join(dataDir, 'pgdata')), false, 'nothing was written');
  const ok = await tolk(['orgs', 'set', '--org', 'acme', '--stt', 'pocketsphinx', '--tier', '2', '--json', '--data-dir', dataDir], os.tmpdir(), {});
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { tier: number; engines: object }).engines, { stt: 'pocketsphinx' });
  fs.rmSync(dataDir, { recursive: true, force: true });
});
