import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { closeTestEngines, testEngines } from './helpers.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

// `tolk translate` as a user runs it: the real CLI process, its exit code and what it prints.

const CLI = path.resolve('src/cli/main.ts');
const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav';

interface Run { code: number; stdout: string; stderr: string }

async function tolk(args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A loopback port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

it('tolk translate: clear errors for a missing file, a file that is not WAV, an unwritable --out (before streaming) and a server that does not answer', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-translate-'));
  const mp3 = path.join(dir, 'speech.mp3');
  fs.writeFileSync(mp3, Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00 not a wave file', 'latin1'));
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;

  const notWav = await tolk(['translate', mp3, '--from', 'en-US', '--to', 'es-ES', '--url', url, '--api-key', 'ip_live_x']);
  assert.equal(notWav.code, 1);
  assert.match(notWav.stderr, new RegExp(`^tolk: ${mp3} is not a file tolk translate can read \\(.+\\)\\. It reads a WAV file \\(RIFF/WAVE\\) of PCM samples .+ mono or stereo, any sample rate; convert others first, e\\.g\\. \`sox in\\.mp3 -r 16000 -c 1 in\\.wav\`\\n$`));

  const missing = await tolk(['translate', path.join(dir, 'nope.wav'), '--from', 'en-US', '--to', 'es-ES', '--url', url, '--api-key', 'ip_live_x']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `tolk: cannot read ${path.join(dir, 'nope.wav')}: no such file\n`);

  const badOut = await tolk(['translate', LIBRIVOX, '--from', 'en-US', '--to', 'es-ES', '--url', url, '--api-key', 'ip_live_x', '--out', path.join(dir, 'missing', 'out.wav')]);
  assert.equal(badOut.code, 1);
  assert.equal(badOut.stderr, `tolk: cannot write --out ${path.join(dir, 'missing', 'out.wav')}: ENOENT (nothing was streamed)\n`, 'refused before the server is even asked');

  const down = await tolk(['translate', LIBRIVOX, '--from', 'en-US', '--to', 'es-ES', '--url', url, '--api-key', 'ip_live_x']);
  assert.equal(down.code, 1);
  assert.equal(down.stderr.split('\n').at(-2), `tolk: no Tolk server answered at ${url} (ECONNREFUSED): is \`tolk serve\` running there, and is the URL right?`);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('tolk translate exits 1 and says how far it got when the server stops mid-stream', { timeout: 240_000 }, async () => {
  const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' }), { engines: await testEngines() });
  let closed = false;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'translate', LIBRIVOX, '--from', 'en-US', '--to', 'es-ES', '--url', server.url, '--api-key', server.firstOwnerKey ?? ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit');
    // Stop the server once the stream is live (the file lasts ~3.5 s at real-time pace).
    while (server.ctx.activeStreams.size === 0) {
      if (child.exitCode !== null) assert.fail(`tolk translate exited before streaming: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.close();
    closed = true;
    const [code] = (await exited) as [number];
    assert.equal(code, 1, stderr);
    assert.match(stderr, /tolk: the server closed the stream \(1001 Server shutting down\) after \d+\.\d s of 3\.\d s of audio had been sent; \d+ sentences? recognized and \d+ translated before it ended\. The rest of the file was not translated\n$/);
  } finally {
    if (!closed) await server.close();
  }
});

it('README "A first translation": without --url tolk translate shows its progress and prints what the README says', { timeout: 300_000 }, async () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const block = /### A first translation[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const expected = block.split('\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
  assert.ok(expected.length >= 3, 'the README shows the output');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-readme-'));
  const out = path.join(dir, 'out.wav');
  const run = await tolk(['translate', LIBRIVOX, '--from', 'en-US', '--to', 'es-ES', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n'), expected.map((l) => l.replace('out.wav', out)));
  assert.deepEqual(run.stderr.split('\n').slice(0, 2), [
    'starting an in-process server (loading the speech engines; give --url to use a running one)…',
    'streaming 3.0 s of audio at real-time pace…',
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});
