import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { closeEngines } from '../src/providers/index.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';

/** The value of one sample line of the Prometheus text, e.g. `tolk_utterances_total`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

/** `/metrics` once no `/vt` stream is live any more (at most 10 s after the client closed). */
async function metricsOnceEnded(baseUrl: string): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${baseUrl}/metrics`);
    const text = await res.clone().text();
    if (sample(text, 'tolk_streams_active{surface="vt"}') === 0 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/metrics (Prometheus)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('counts streams and utterances and reports stage latencies and the real-time factor from a real stream', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(sample(before, 'tolk_utterances_total'), 0);
    const recording = librivoxRecordings().find((r) => r.id.endsWith('0880'));
    assert.ok(recording);
    const { samples, sampleRateHz } = loadWav(recording.path);
    const key = await fetchSessionKey(server.url, server.apiKey, 60);
    let during = '';
    const result = await streamAudio({
      url: vtUrl(server.url, key), samples, sampleRateHz,
      config: { audio: { format: 'pcm_s16le', sample_rate: sampleRateHz, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' },
      onEvent: (e) => {
        if (e.kind === 'transcript' && !during) void fetch(`${server.url}/metrics`).then(async (r) => (during = await r.text()));
      },
    });
    const finals = result.events.filter((e) => e.kind === 'transcript' && e.final).length;
    // The stream counts as live until the server has finished it (src/transports/vt.ts `shutdown`),
    // which ends a little after the client's close: read the metrics once it has.
    const res = await metricsOnceEnded(server.url);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.equal(sample(during, 'tolk_streams_active{surface="vt"}'), 1, 'one live stream while streaming');
    assert.equal(sample(text, 'tolk_streams_active{surface="vt"}'), 0);
    assert.equal(sample(text, 'tolk_streams_started_total{surface="vt"}'), 1);
    assert.equal(sample(text, 'tolk_utterances_total'), finals);
    assert.equal(sample(text, 'tolk_utterance_latency_ms_count{stage="first_audio"}'), finals);
    const translationSum = sample(text, 'tolk_utterance_latency_ms_sum{stage="translation"}') ?? 0;
    assert.ok(translationSum > 0 && translationSum / finals < 5000, `translation latency sum ${translationSum}`);
    const rtf = sample(text, 'tolk_stt_real_time_factor');
    assert.ok(rtf !== undefined && rtf > 0 && rtf < 1, `real-time factor ${rtf}`);
    assert.ok((sample(text, 'tolk_stt_audio_seconds_total') ?? 0) >= 2, 'the recording was decoded');
    assert.ok(sample(text, 'tolk_process_resident_memory_bytes') !== undefined);
    assert.equal(sample(text, 'tolk_worker_load_ratio'), 0);
  });
});
