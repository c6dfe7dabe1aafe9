import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent, type StreamAudioResult } from '../src/client/vt-client.js';
import { getOrganizationAdmission, setOrganizationAdmission } from '../src/domain/admission.js';
import { closeEngines } from '../src/providers/index.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';

// Spec 002 Part 2 step 2 through `/vt` itself (docs/admission.md): the organization's tier, balance
// and concurrency limit decide whether a stream starts. `make test` runs this file on PGlite with the
// in-memory counter, then on Postgres with the Redis counter.

type Server = Awaited<ReturnType<typeof startTestServer>>;
type ErrorEvent = Extract<ReceivedEvent, { kind: 'error' }>;

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
const errorsOf = (r: StreamAudioResult): ErrorEvent[] => r.events.filter((e): e is ErrorEvent => e.kind === 'error');

function recording(idSuffix: string): { samples: Int16Array; sampleRateHz: number } {
  const r = librivoxRecordings().find((x) => x.id.endsWith(idSuffix));
  assert.ok(r, idSuffix);
  return loadWav(r.path);
}

describe('/vt admission: tier 400, balance 402, concurrency 429 (spec 002 Part 2 step 2)', () => {
  let server: Server;
  let url: string;
  const org = 'default'; // the owner key's organization

  /** A stream that must be refused before any audio is processed: one second of silence, sent at once. */
  const refusedStream = (config: Record<string, unknown> = CONFIG) =>
    streamAudio({ url, config, samples: new Int16Array(16000), sampleRateHz: 16000, realtime: false, timeoutMs: 10_000 });

  before(async () => {
    server = await startTestServer();
    url = vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey, 600));
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });
  beforeEach(async () => {
    await setOrganizationAdmission(server.ctx.db, org, { tier: 1, minutesBalanceMs: null, maxConcurrentStreams: null });
  });

  it('tier 0 refuses a translated pair and a voice it lacks with 400, before any slot is taken', async () => {
    await setOrganizationAdmission(server.ctx.db, org, { tier: 0, maxConcurrentStreams: 1 });
    const translated = await refusedStream();
    assert.deepEqual(errorsOf(translated).map((e) => [e.code, e.description]), [
      [400, 'Incorrect target language "es-ES": translation is not available under tier 0 (transcription); the target must be the source language (en)'],
    ]);
    assert.equal(translated.closeCode, 4400);
    assert.equal(translated.audio.length, 0);
    assert.equal(translated.events.filter((e) => e.kind === 'transcript').length, 0);
    const male = await refusedStream({ ...CONFIG, target_language: 'en-US', voice: 'male' });
    assert.match(errorsOf(male)[0]?.description ?? '', /^Invalid voice "male": not available under tier 0/);
    assert.equal(male.closeCode, 4400);
    // What tier 0 does allow: transcription and the same-language voice.
    const { samples, sampleRateHz } = recording('0880');
    const transcribed = await streamAudio({ url, config: { ...CONFIG, target_language: 'en-US' }, samples, sampleRateHz, realtime: false });
    assert.deepEqual(errorsOf(transcribed), []);
    assert.ok(transcribed.events.some((e) => e.kind === 'transcript' && e.final && e.text.length > 0), 'transcribed at tier 0');
    // The same organization at tier 1 streams the translated config.
    await setOrganizationAdmission(server.ctx.db, org, { tier: 1 });
    const ok = await streamAudio({ url, config: CONFIG, samples, sampleRateHz, realtime: false });
    assert.deepEqual(errorsOf(ok), []);
    assert.ok(ok.events.some((e) => e.kind === 'translate' && e.text.length > 0), 'translated at tier 1');
  });

  it('an exhausted balance is refused with 402; streamed audio is charged to the balance', async () => {
    await setOrganizationAdmission(server.ctx.db, org, { minutesBalanceMs: 0 });
    const broke = await refusedStream();
    assert.deepEqual(errorsOf(broke).map((e) => [e.code, e.description]), [[402, 'Balance exhausted: the organization has no streaming minutes left']]);
    assert.equal(broke.closeCode, 4402);

    const startMs = 60_000;
    await setOrganizationAdmission(server.ctx.db, org, { minutesBalanceMs: startMs });
    const { samples, sampleRateHz } = recording('0870');
    const sentMs = (samples.length / sampleRateHz) * 1000;
    const paid = await streamAudio({ url, config: CONFIG, samples, sampleRateHz, realtime: false, trailingSilenceMs: 0 });
    assert.deepEqual(errorsOf(paid), []);
    // Charged when the stream ends, after the close the client saw.
    let balance = startMs;
    for (let i = 0; i < 50 && balance === startMs; i++) {
      balance = (await getOrganizationAdmission(server.ctx.db, org)).minutesBalanceMs ?? startMs;
      await new Promise((r) => setTimeout(r, 100));
    }
    const chargedMs = startMs - balance;
    console.log(`# sent ${sentMs.toFixed(0)} ms of audio, charged ${chargedMs} ms`);
    assert.ok(Math.abs(chargedMs - sentMs) <= 40, `charged ${chargedMs} ms for ${sentMs.toFixed(0)} ms sent`);
  });

  it('the concurrency limit refuses a stream over it with 429 and admits again once a slot is freed', async () => {
    await setOrganizationAdmission(server.ctx.db, org, { maxConcurrentStreams: 1 });
    const { samples, sampleRateHz } = recording('0880');
    let live!: () => void;
    const first = new Promise<void>((resolve) => (live = resolve));
    // The first stream holds the only slot while it speaks in real time.
    const holder = streamAudio({ url, config: { ...CONFIG, transcript: { interim: true } }, samples, sampleRateHz, onEvent: () => live() });
    await first;
    const over = await refusedStream();
    assert.deepEqual(errorsOf(over).map((e) => [e.code, e.description]), [[429, 'Max concurrent connections exceeded (1 for this organization)']]);
    assert.equal(over.closeCode, 4429);
    const held = await holder;
    assert.deepEqual(errorsOf(held), [], 'the stream holding the slot is unaffected');
    assert.ok(held.events.some((e) => e.kind === 'translate'));
    // Its slot is freed when it ends; the freed slot admits the next stream.
    let next: StreamAudioResult | undefined;
    for (let i = 0; i < 20; i++) {
      next = await streamAudio({ url, config: CONFIG, samples, sampleRateHz, realtime: false });
      if (errorsOf(next).length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(next);
    assert.deepEqual(errorsOf(next), []);
    assert.ok(next.events.some((e) => e.kind === 'translate'));
  });
});
