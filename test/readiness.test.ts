import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl, type StreamAudioResult } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { freePort, librivoxRecordings, loadWav } from './helpers.js';

const CONFIG = { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: true, final: true, translate: true } };

/** Six LibriVox streams (the five recordings and the first again) started at the same instant. */
async function burst(baseUrl: string, ownerKey: string): Promise<StreamAudioResult[]> {
  const recordings = librivoxRecordings();
  const six = [...recordings, recordings[0]].map((r) => loadWav(r?.path ?? ''));
  const keys = await Promise.all(six.map(() => fetchSessionKey(baseUrl, ownerKey, 300)));
  return Promise.all(six.map((r, i) => streamAudio({
    url: vtUrl(baseUrl, keys[i] ?? ''), config: CONFIG, samples: r.samples, sampleRateHz: r.sampleRateHz,
    // Late is allowed, lost is not: the client waits for what the server still owes it.
    firstEventWaitMs: 240_000, idleCloseMs: 5000, timeoutMs: 300_000,
  })));
}

/**
 * Whether a stream was served whole: no error, at least one final with text, every utterance that
 * had an interim got its final, and every final its translation.
 */
function servedWhole(r: StreamAudioResult): string | undefined {
  const error = r.events.find((e) => e.kind === 'error');
  if (error?.kind === 'error') return `an error event (${error.code}: ${error.description})`;
  const finals = r.events.filter((e) => e.kind === 'transcript' && e.final && e.text);
  if (finals.length === 0) return 'no final';
  const finalIds = new Set(finals.map((f) => (f.kind === 'transcript' ? f.utteranceId : '')));
  const interimIds = new Set(r.events.flatMap((e) => (e.kind === 'transcript' && !e.final ? [e.utteranceId] : [])));
  for (const id of interimIds) if (!finalIds.has(id)) return `utterance ${id} had interims and no final`;
  for (const id of finalIds) {
    if (!r.events.some((e) => e.kind === 'translate' && e.utteranceId === id && e.text)) return `final ${id} without its translation`;
  }
  return undefined;
}

/** A refusal at once: an error event 429 or 503 and nothing else before it. */
function refusedAtOnce(r: StreamAudioResult): boolean {
  const first = r.events[0];
  return first?.kind === 'error' && (first.code === 429 || first.code === 503) && r.events.every((e) => e.kind === 'error');
}

describe('readiness: a freshly started server admits only streams it can serve', () => {
  it('answers 503 with what it waits for until warm, refuses a burst before ready at once, then 200 and a burst gets every final', { timeout: 600_000 }, async () => {
    // Its own engines, as `tolk serve` starts them; streams are not shed on a slow shared machine.
    const base = loadConfig({});
    const server = await startServer(loadConfig({}, {
      port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', capacity: { ...base.capacity, maxBacklogMs: 60_000 },
    }), { waitUntilReady: false });
    try {
      const live = await fetch(`${server.url}/api/health`);
      assert.equal(live.status, 200, 'liveness answers as soon as the server listens');
      const early = await fetch(`${server.url}/api/health/ready`);
      assert.equal(early.status, 503);
      assert.equal(early.headers.get('retry-after'), '2');
      const body = (await early.json()) as { status: string; waiting_for: string[] };
      assert.equal(body.status, 'starting');
      assert.ok(body.waiting_for.includes("the measurement of the recognizer's CPU cost"), JSON.stringify(body));

      const before = await burst(server.url, server.firstOwnerKey ?? '');
      for (const [i, r] of before.entries()) {
        assert.ok(refusedAtOnce(r) || servedWhole(r) === undefined, `stream ${i} before ready: neither refused at once nor served whole (${servedWhole(r)})`);
      }
      const refused = before.filter(refusedAtOnce);
      for (const r of refused) {
        const e = r.events[0];
        assert.match(e?.kind === 'error' ? e.description : '', /warming up \(waiting for .+\); try again in 2 s/);
      }

      await server.ready;
      const ready = await fetch(`${server.url}/api/health/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { waiting_for: string[] }).waiting_for, []);

      const after = await burst(server.url, server.firstOwnerKey ?? '');
      for (const [i, r] of after.entries()) assert.equal(servedWhole(r), undefined, `stream ${i} after ready`);
    } finally {
      await server.close();
    }
  });
});

describe('start-up on a busy machine', () => {
  it('with two CPU burners running, `tolk serve` listens, prints "tolk ready" and /api/health/ready answers 200 (no plugin timeout)', { timeout: 600_000 }, async () => {
    const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-ready-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let exitCode: number | null | undefined;
    child.once('exit', (code) => (exitCode = code));
    try {
      const deadline = Date.now() + 480_000;
      while (!/"msg":"tolk ready"/.test(output)) {
        if (exitCode !== undefined) throw new Error(`tolk serve exited (${exitCode}) before ready: ${output}`);
        if (Date.now() > deadline) throw new Error(`not ready in time: ${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(output, /"msg":"tolk listening"[\s\S]*"msg":"tolk ready"/, 'listening is logged before ready');
      assert.doesNotMatch(output, /did not start in time/);
      const ready = await fetch(`http://127.0.0.1:${port}/api/health/ready`);
      assert.equal(ready.status, 200);
    } finally {
      for (const b of burners) b.kill('SIGKILL');
      child.kill('SIGTERM');
      await new Promise((r) => (exitCode !== undefined ? r(undefined) : child.once('exit', r)));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
