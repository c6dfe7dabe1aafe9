import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { librivoxSamples } from './helpers.js';
import { startTolkChild, type TolkChild } from './tolk-child.js';

/**
 * The VAD of `TOLK_VAD` (docs/vad.md) runs under the real `tolk serve` entry (role `all`), as it
 * does on a worker: a LibriVox recording streamed over `/vt` is counted in `/metrics` under the VAD
 * that endpointed it (`tolk_vad_streams_total`, docs/operations.md).
 */

const RATE_HZ = 16000;
// The documented default is what a server started without TOLK_VAD runs.
delete process.env.TOLK_VAD;

/** `tolk_vad_streams_total` of `server`, by VAD (absent labels: never counted). */
async function vadStreams(server: TolkChild): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^tolk_vad_streams_total\{vad="(\w+)"\} (\d+)$/gm)) counts[m[1] ?? ''] = Number(m[2]);
  return counts;
}

/** Streams a LibriVox recording (faster than real time) and returns its final transcripts' text and how the stream closed. */
async function streamRecording(server: TolkChild): Promise<{ text: string; closed: string }> {
  const key = await fetchSessionKey(server.url, server.apiKey, 120);
  const result = await streamAudio({
    url: vtUrl(server.url, key),
    config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female', transcript: { interim: false, final: true, translate: false } },
    samples: librivoxSamples('0870'), sampleRateHz: RATE_HZ, realtime: false, timeoutMs: 60_000,
  });
  const text = result.events.flatMap((e) => (e.kind === 'transcript' && e.final ? [e.text] : [])).join(' ');
  return { text, closed: `${result.closeCode} ${result.closeReason}; events: ${JSON.stringify(result.events)}` };
}

describe('tolk serve (role all) runs the VAD of TOLK_VAD', () => {
  const dirs: string[] = [];
  const servers: TolkChild[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function serve(env: Record<string, string>): Promise<TolkChild> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-serve-vad-'));
    dirs.push(dir);
    // Streams are not shed for falling behind: the shared test machine is often slower than real time.
    const server = await startTolkChild(dir, { TOLK_MAX_BACKLOG_MS: '60000', ...env });
    servers.push(server);
    return server;
  }

  it('without TOLK_VAD, streams are endpointed by the Silero VAD (the documented default)', async () => {
    const server = await serve({});
    assert.deepEqual(await vadStreams(server), {});
    const { text, closed } = await streamRecording(server);
    assert.match(text, /\w+/, `the recording was recognized (closed ${closed})`);
    assert.deepEqual(await vadStreams(server), { silero: 1 });
  });

  it('with TOLK_VAD=energy, streams are endpointed by the energy VAD', async () => {
    const server = await serve({ TOLK_VAD: 'energy' });
    const { text, closed } = await streamRecording(server);
    assert.match(text, /\w+/, `the recording was recognized (closed ${closed})`);
    assert.deepEqual(await vadStreams(server), { energy: 1 });
  });
});
