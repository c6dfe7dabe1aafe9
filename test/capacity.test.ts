import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { fetchSessionKey, streamAudio, vtUrl, type StreamAudioResult } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { openGrantedStream, resolveStreamKey } from '../src/gateway/stream-service.js';
import { closeEngines } from '../src/providers/index.js';
import { startServer } from '../src/server.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';
import { Peer } from './room-peer.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const CONFIG = { source_language: 'en-US', target_language: 'es-ES', voice: 'female' };

/** A /vt client that sends its config and then holds the stream open. */
class HeldStream {
  readonly ws: WebSocket;
  readonly events: Array<{ error?: { code: number; description: string } }> = [];
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d, isBinary) => void (isBinary || this.events.push(JSON.parse(d.toString()) as { error?: { code: number; description: string } })));
    this.closed = new Promise((resolve) => this.ws.on('close', (code) => resolve(code)));
    this.ws.once('open', () => this.ws.send(JSON.stringify({ config: CONFIG })));
  }

  error(): { code: number; description: string } | undefined {
    return this.events.find((e) => e.error)?.error;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const BUDGET_SPENT = /Max concurrent connections exceeded: this server's real-time budget is spent \(2 streams at 0\.50 CPU s per audio s on 1 cores × 1\)/;

describe('capacity: streams are admitted while their measured cost fits the real-time budget', () => {
  let server: Server;
  const running = async (): Promise<number> => (await server.ctx.workers.snapshot())[0]?.load ?? -1;

  before(async () => {
    // One core at full use; a stream measured at 0.5 CPU s per audio s: two fit, far below TOLK_MAX_STREAMS.
    server = await startTestServer({ maxStreams: 32, capacity: { cores: 1, targetUtilisation: 1, maxBacklogMs: 2000 } });
    server.budget?.calibrated(0.5);
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('the budget follows the measured cost: /metrics and the worker snapshot show capacity, load and refusals', async () => {
    assert.equal(server.budget?.capacity, 2);
    assert.equal((await server.ctx.workers.snapshot())[0]?.capacity, 2);
    server.budget?.calibrated(0.25);
    assert.equal((await server.ctx.workers.snapshot())[0]?.capacity, 4);
    server.budget?.calibrated(0.5);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^tolk_capacity_streams 2$/m);
    assert.match(metrics, /^tolk_capacity_budget_cpu_seconds 1$/m);
    assert.match(metrics, /^tolk_capacity_cost_cpu_seconds_per_audio_second 0\.5$/m);
  });

  it('/vt, single-device and room conversations, and the LiveKit speakers\' stream service each refuse with their documented 429 when the budget is spent', async () => {
    const ws = server.url.replace('http', 'ws');
    const held = [new HeldStream(vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey))), new HeldStream(vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey)))];
    await until('two streams running', async () => (await running()) === 2);

    // /vt (spec 002): error event 429, close 4429.
    const vt = new HeldStream(vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey)));
    assert.equal(await vt.closed, 4429);
    assert.equal(vt.error()?.code, 429);
    assert.match(String(vt.error()?.description), BUDGET_SPENT);

    // Single device (spec 003): {"error": …} naming the capacity.
    const single = new Peer(`${ws}/api/v1/ws/single`);
    await single.opened;
    single.send({ type: 'config', language: 'en-US', translate_language: 'es', voice: 'female', sample_rate: 16000, speech: true });
    await single.until('the refusal', () => single.json.some((m) => 'error' in m));
    assert.match(String(single.json.find((m) => 'error' in m)?.error), /The server is at capacity; try again shortly\. \(Max concurrent connections exceeded: this server's real-time budget is spent/);
    await single.close();

    // A conversation room's speaker (spec 003): told its speech is not recognized.
    const created = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    const id = ((await created.json()) as { conversation_id: string }).conversation_id;
    const speaker = await Peer.join(server.url, id, 'en-US');
    await speaker.speak(loadWav(librivoxRecordings()[1]?.path ?? '').samples);
    await speaker.until('the refusal', () => speaker.json.some((m) => typeof m.error === 'string'));
    assert.equal(speaker.json.find((m) => typeof m.error === 'string')?.error, 'The server is at capacity; your speech is not being recognized. Try again shortly.');
    await speaker.close();

    // A LiveKit room speaker opens its stream through the stream service with its session's grant.
    const grant = await resolveStreamKey(server.ctx, server.apiKey);
    assert.ok(grant);
    const refused = await openGrantedStream(server.ctx, grant, {
      config: { audio: { format: 'pcm_s16le', sample_rate: 48000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female', vocabulary: [], translation_dictionary: [], transcript: { interim: true, final: true, translate: true } },
      connection: { disconnect: () => {} }, log: server.app.log, isOpen: () => true,
      handlers: { onEvent: () => {}, onAudio: () => {}, onClose: () => {} },
    });
    assert.deepEqual(refused.ok ? undefined : 'status' in refused && refused.status, 429);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^tolk_capacity_load_streams 2$/m);
    const refusals = Number(/^tolk_capacity_refused_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(refusals >= 4, `${refusals} refusals counted`);

    // A stream that ends makes room for the next.
    held[0]?.ws.close();
    await until('one stream left', async () => (await running()) === 1);
    const next = new HeldStream(vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey)));
    await until('the next stream running', async () => (await running()) === 2);
    assert.equal(next.error(), undefined);
    for (const s of [held[1], next]) s?.ws.close();
    await until('all streams ended', async () => (await running()) === 0);
  });
});

describe('cold start: six streams started at the same instant on a freshly started server', () => {
  it('each gets every final, its translation and speech', { timeout: 360_000 }, async () => {
    // Its own engines, as `tolk serve` starts them: one recognizer loaded, the capacity's worth loading
    // in the background while the six streams start (each waits for one if none is ready).
    const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', capacity: { cores: 16, targetUtilisation: 1, maxBacklogMs: 60_000 } }));
    try {
      const recordings = librivoxRecordings();
      const six = [...recordings, recordings[0]].map((r) => ({ ...loadWav(r?.path ?? '') }));
      const keys = await Promise.all(six.map(() => fetchSessionKey(server.url, server.firstOwnerKey ?? '', 300)));
      const results: StreamAudioResult[] = await Promise.all(six.map((r, i) => streamAudio({
        url: vtUrl(server.url, keys[i] ?? ''),
        config: { ...CONFIG, transcript: { interim: true, final: true, translate: true } },
        samples: r.samples, sampleRateHz: r.sampleRateHz,
        // Late is allowed, lost is not: the client waits for what the server still owes it.
        firstEventWaitMs: 240_000, idleCloseMs: 5000, timeoutMs: 300_000,
      })));
      for (const [i, r] of results.entries()) {
        assert.equal(r.events.filter((e) => e.kind === 'error').length, 0, `stream ${i}: an error`);
        const finals = r.events.filter((e) => e.kind === 'transcript' && e.final && e.text);
        assert.ok(finals.length >= 1, `stream ${i}: no final`);
        for (const f of finals) {
          const id = f.kind === 'transcript' ? f.utteranceId : '';
          assert.ok(r.events.some((e) => e.kind === 'translate' && e.utteranceId === id && e.text), `stream ${i}: a final without its translation`);
        }
        assert.ok(r.audio.length > 8000, `stream ${i}: no synthesized speech`);
      }
    } finally {
      await server.close();
    }
  });
});
