import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const CLI = path.resolve('src/cli/main.ts');

/** Runs the CLI with `env` added; returns its exit code and output. */
async function tolk(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

it('tolk engines check: prints a valid configuration\'s engines, routes and languages; refuses an invalid one naming the engine and setting', async () => {
  // A loopback port nothing listens on (taken, then freed).
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const config = {
    engines: [
      { id: 'whisper', kind: 'stt', name: 'openai', settings: { baseUrl: `http://127.0.0.1:${closedPort}/v1`, apiKey: { env: 'CHECK_KEY' }, languages: ['es', 'de'] } },
      { id: 'pocketsphinx', kind: 'stt', name: 'pocketsphinx' },
    ],
    routes: { stt: { default: ['pocketsphinx', 'whisper'], es: ['whisper'] } },
  };
  // Nothing listens on the closed port: the configuration is valid, but the check fails naming the engine.
  const ok = await tolk(['engines', 'check', '--start'], { TOLK_ENGINES: JSON.stringify(config), CHECK_KEY: 'sk-1' });
  assert.equal(ok.code, 1, ok.stderr);
  assert.equal(ok.stderr, 'tolk: the configuration is valid, but no server answered for engine whisper: start it or fix its URL\n');
  const lines = ok.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 9), [
    'configuration is valid',
    'engine whisper: stt openai',
    'engine pocketsphinx: stt pocketsphinx',
    'engine apertium: mt apertium',
    'engine espeak-ng: tts espeak-ng',
    'routes.stt: default pocketsphinx → whisper',
    'routes.stt.es: whisper',
    'routes.mt: default apertium',
    'routes.tts: default espeak-ng',
  ]);
  assert.equal(lines[9], 'recognized: de, en, es');
  assert.equal(lines.at(-1), `unreachable: whisper (http://127.0.0.1:${closedPort}/v1: ECONNREFUSED)`);

  // A server that answers (even 404) is reachable, and the check passes.
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const up = { ...config, engines: [{ ...config.engines[0], settings: { ...config.engines[0]!.settings, baseUrl } }, config.engines[1]] };
    const reachable = await tolk(['engines', 'check', '--start'], { TOLK_ENGINES: JSON.stringify(up), CHECK_KEY: 'sk-1' });
    assert.equal(reachable.code, 0, reachable.stderr);
    assert.equal(reachable.stdout.trim().split('\n').at(-1), `reachable: whisper (${baseUrl})`);
  } finally {
    server.close();
  }

  const missing = await tolk(['engines', 'check'], { TOLK_ENGINES: JSON.stringify(config), CHECK_KEY: '' });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'tolk: invalid engine configuration: engine "whisper": setting "apiKey": environment variable CHECK_KEY is not set\n');
});

it('a server refuses to start on an invalid TOLK_ENGINES / TOLK_ENGINES_FILE, naming the fault', async () => {
  const { loadConfig } = await import('../src/config.js');
  const { startServer } = await import('../src/server.js');
  const base = { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' } as const;
  await assert.rejects(startServer(loadConfig({ TOLK_ENGINES: '{"engines":[{"id":"a","kind":"stt","name":"deepgram"}]}' }, base)), {
    message: 'invalid engine configuration: engine "a": unknown stt engine "deepgram"; known: pocketsphinx, openai, soniox',
  });
  await assert.rejects(startServer(loadConfig({ TOLK_ENGINES_FILE: '/nonexistent/engines.yaml' }, base)), { message: /^invalid engine configuration: TOLK_ENGINES_FILE \/nonexistent\/engines\.yaml: ENOENT/ });
});
