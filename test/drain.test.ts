import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import WebSocket from 'ws';
import { encodeS16le } from '../src/audio/pcm.js';
import { freePort, librivoxRecordings, loadWav } from './helpers.js';


it('SIGTERM drains: the utterance in flight gets its final, translation and speech, then close 1001, exit 0', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-drain-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'warn', TOLK_STT_IDLE_DECODERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!/ip_live_\w{32}/.test(stdout)) {
      if (Date.now() > deadline) throw new Error(`no owner key printed: ${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const key = /ip_live_\w{32}/.exec(stdout)?.[0] ?? '';
    const base = `http://127.0.0.1:${port}`;
    while (!(await fetch(`${base}/api/health/ready`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));

    const recording = librivoxRecordings().find((r) => r.id.endsWith('0870'));
    assert.ok(recording);
    const { samples } = loadWav(recording.path);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/vt`);
    const events: Array<Record<string, unknown>> = [];
    let audioBytes = 0;
    let audioAfterTranslation = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        audioBytes += (data as Buffer).length;
        if (events.some((e) => 'translate' in e)) audioAfterTranslation += (data as Buffer).length;
      } else events.push(JSON.parse(data.toString()) as Record<string, unknown>);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ config: { api_key: key, source_language: 'en-US', target_language: 'es-ES', voice: 'female', audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, transcript: { interim: true } } }));
    // 3 s of a 7 s sentence at real-time pace, then SIGTERM while the person is still speaking.
    const start = Date.now();
    let sigtermAt = 0;
    for (let i = 0, n = 0; i < samples.length; i += 320, n++) {
      if (ws.readyState !== WebSocket.OPEN) break;
      ws.send(encodeS16le(samples.subarray(i, i + 320)));
      if (n === 150) {
        sigtermAt = Date.now();
        child.kill('SIGTERM');
      }
      const wait = start + (n + 1) * 20 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const code = await closed;
    if (!sigtermAt) console.log(`# closed early ${code}: ${JSON.stringify(events.slice(0, 3))}`);
    const interimsBefore = events.filter((e) => (e.transcript as { final?: boolean } | undefined)?.final === false).length;
    const final = events.find((e) => (e.transcript as { final?: boolean } | undefined)?.final === true);
    const translation = events.find((e) => 'translate' in e);
    console.log(`# drained in ${Date.now() - sigtermAt} ms: final "${String((final?.transcript as { text?: string } | undefined)?.text)}", ${audioBytes} bytes of speech`);
    assert.ok(interimsBefore > 0, 'the utterance was in flight (interims) when SIGTERM came');
    assert.ok(final, `no final after SIGTERM: ${JSON.stringify(events.slice(-3))}`);
    assert.ok(translation && String((translation.translate as { text?: string }).text).length > 0, 'no translation');
    assert.ok(audioAfterTranslation > 0, 'no translated speech before the close');
    assert.equal(code, 1001);
    assert.ok(!events.some((e) => 'error' in e), JSON.stringify(events.filter((e) => 'error' in e)));
    assert.equal(await exited, 0);
    await assert.rejects(fetch(`${base}/api/health`), 'the server is gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
