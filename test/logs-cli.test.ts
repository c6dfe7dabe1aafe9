import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { formatLogLine, logFormat } from '../src/logging.js';
import { closeTestEngines } from './helpers.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

// `tolk serve` in a terminal (a pseudo-terminal from util-linux `script`): readable log lines and the
// owner key as a block; JSON when stdout is not a terminal (test/operator-cli.test.ts parses it).

const CLI = path.resolve('src/cli/main.ts');
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));

it('log lines: pretty on a terminal, JSON otherwise, TOLK_LOG_FORMAT overrides', () => {
  assert.equal(logFormat({}, true), 'pretty');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ TOLK_LOG_FORMAT: 'json' }, true), 'json');
  const time = new Date(2026, 11, 7, 9, 5, 3, 42).getTime();
  assert.equal(
    formatLogLine(JSON.stringify({ level: 40, time, pid: 1, hostname: 'h', msg: 'stream refused', status: 429, reason: 'at capacity now', org: 'org_1' })),
    '09:05:03.042 WARN  stream refused  status=429 reason="at capacity now" org=org_1\n',
  );
});

it('tolk serve on a terminal prints readable lines and the owner key as a framed block', { skip: SCRIPT ? false : 'SKIPPED: util-linux script is not installed', timeout: 180_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-tty-'));
  const command = `${process.execPath} --import tsx ${CLI} serve --port 0 --host 127.0.0.1 --data-dir ${dataDir}`;
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', TOLK_STT_IDLE_DECODERS: '0', XDG_RUNTIME_DIR: dataDir };
  delete env.TOLK_LOG_FORMAT;
  const child = spawn(SCRIPT as string, ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString().replaceAll('\r', '');
        if (out.includes('TOLK_PUBLIC_URL is not set')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`tolk serve exited ${code}: ${out}`)));
    });
    assert.match(out, /\n={72}\n {2}A default organization was created\. Its OWNER API key \(shown once, keep it safe\):\n\n {4}ip_live_[0-9A-Za-z]{32}\n\n {2}Use it as "Authorization: Bearer <key>" on \/api, or: export TOLK_API_KEY=<key>\n {2}More keys: tolk keys create --org <name> {3}\(tolk keys list shows them\)\n={72}\n/);
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}tolk listening {2}url=http:\/\/127\.0\.0\.1:\d+ dataDir=\S+ database=pglite role=all$/m);
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}TOLK_PUBLIC_URL is not set: links and QR codes carry the address each request reached/m);
    assert.ok(!/^\{"level"/m.test(out), 'no JSON lines on a terminal');
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      process.kill(-(child.pid as number), 'SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

it('a stream refused for capacity (429) is logged with its organization and reason', async () => {
  const { loadConfig } = await import('../src/config.js');
  const { startServer } = await import('../src/server.js');
  const { fetchSessionKey, vtUrl } = await import('../src/client/vt-client.js');
  const { testEngines } = await import('./helpers.js');
  const WebSocket = (await import('ws')).default;
  const lines: string[] = [];
  const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'info', maxStreams: 1 }), {
    engines: await testEngines(), logStream: { write: (l: string) => void lines.push(l) },
  });
  const sockets: InstanceType<typeof WebSocket>[] = [];
  try {
    const config = { config: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' } };
    const open = async (): Promise<InstanceType<typeof WebSocket>> => {
      const ws = new WebSocket(vtUrl(server.url, await fetchSessionKey(server.url, server.firstOwnerKey ?? '')));
      sockets.push(ws);
      ws.on('error', () => {});
      await once(ws, 'open');
      ws.send(JSON.stringify(config));
      return ws;
    };
    await open();
    while (server.ctx.activeStreams.size === 0) await new Promise((r) => setTimeout(r, 20));
    const second = await open();
    const [code] = (await once(second, 'close')) as [number];
    assert.equal(code, 4429);
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'stream refused');
    assert.ok(refused, 'the refusal is logged');
    assert.equal(refused.level, 40);
    assert.equal(refused.status, 429);
    assert.match(String(refused.organizationId), /^org_/);
    assert.ok(String(refused.reason).length > 0);
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.close();
  }
});
