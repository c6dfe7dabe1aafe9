import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { streamAudio, type StreamAudioResult } from '../src/client/vt-client.js';
import { sessions } from '../src/db/schema.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { configuredEngines } from '../src/providers/engine-listing.js';
import { librivoxSamples } from './helpers.js';
import { startOpsServer, type OpsServer } from './console-ops-support.js';
import { until } from './browser-support.js';

// The console's operations reads (docs/platform.md "Operations"): GET /api/ops/live, /ops/usage and
// /ops/engines against a real server with a real stream: owner/admin only, the caller's
// organization only, and never an engine's settings.

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };
const WAIT_MS = 30_000;

describe('operations endpoints (docs/platform.md "Operations")', { timeout: 180_000 }, () => {
  let server: OpsServer;
  let adminKey: string;
  let memberKey: string;
  let otherKey: string;

  const get = async (key: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${server.url}/api${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const liveStreams = async (key: string) => ((await get(key, '/ops/live')).body.streams as Array<Record<string, unknown>>);

  before(async () => {
    server = await startOpsServer();
    const create = async (role: string) => {
      const res = await fetch(`${server.url}/api/api-keys`, {
        method: 'POST', headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `ops-${role}`, role }),
      });
      return String(((await res.json()) as { key: string }).key);
    };
    adminKey = await create('admin');
    memberKey = await create('member');
    otherKey = (await createApiKey(server.ctx.db, { organizationName: 'elsewhere', name: 'owner', role: 'owner' })).key;
  });

  after(async () => {
    await server?.close();
  });

  it('refuses a member key with the role rule, on every operations read', async () => {
    for (const path of ['/ops/live', '/ops/usage', '/ops/engines']) {
      const res = await get(memberKey, path);
      assert.equal(res.status, 403, path);
      assert.deepEqual(res.body, { error: { code: 'FORBIDDEN', message: 'This action requires the admin role or higher; this key\'s role is member' } });
    }
    assert.equal((await get(adminKey, '/ops/usage?days=0')).status, 400, 'days below 1');
    assert.equal((await get(adminKey, '/ops/usage?days=91')).status, 400, 'days above 90');
  });

  it('lists a running stream of the organization (not of another) until it ends, then its minutes and latency per day', async () => {
    const created = await fetch(`${server.url}/api/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ source_lang: 'en', target_lang: 'es' }),
    }).then((r) => r.json()) as { sessionId: string; streamUrl: string; streamToken: string };
    assert.deepEqual(await liveStreams(adminKey), [], 'nothing runs before the stream');
    const samples = librivoxSamples('0880');
    const running: Promise<StreamAudioResult> = streamAudio({
      url: `${created.streamUrl}?authorization=${encodeURIComponent(`api-key ${created.streamToken}`)}`,
      config: CONFIG, samples, sampleRateHz: 16000, realtime: true, trailingSilenceMs: 1500,
    });
    const seen = await until('the stream on /ops/live', () => liveStreams(adminKey), (s) => s.length === 1, WAIT_MS);
    assert.equal(seen[0]?.surface, 'vt');
    assert.equal(seen[0]?.source_language, 'en-US');
    assert.equal(seen[0]?.target_language, 'es-ES');
    assert.ok(Number(seen[0]?.duration_ms) >= 0 && Date.parse(String(seen[0]?.started_at)) <= Date.now());
    assert.deepEqual(await liveStreams(otherKey), [], 'another organization never sees it');
    const live = await get(adminKey, '/ops/live');
    const capacity = live.body.capacity as { streams_held: number; max_streams: number; budget: { admitted: number; budget_cpu: number } | null };
    assert.ok(capacity.streams_held >= 1 && capacity.max_streams >= capacity.streams_held);
    assert.ok(capacity.budget && capacity.budget.admitted >= 1 && capacity.budget.budget_cpu > 0, JSON.stringify(capacity));

    const result = await running;
    assert.deepEqual(result.events.filter((e) => e.kind === 'error'), []);
    await until('the stream to leave /ops/live', () => liveStreams(adminKey), (s) => s.length === 0, WAIT_MS);

    const row = async () => (await server.ctx.db.select().from(sessions).where(eq(sessions.id, created.sessionId)))[0];
    const usageMs = (await until('the session\'s usage', row, (r) => (r?.usageMs ?? 0) > 0, WAIT_MS))?.usageMs ?? 0;
    const usage = await until('the day\'s utterances and minutes', () => get(adminKey, '/ops/usage?days=7'),
      (r) => Number((r.body.days as Array<{ utterances: number }>).at(-1)?.utterances) > 0 && Number((r.body.days as Array<{ minutes: number }>).at(-1)?.minutes) > 0, WAIT_MS);
    const days = usage.body.days as Array<Record<string, number | string | null>>;
    assert.equal(days.length, 7);
    assert.equal(days.at(-1)?.date, new Date().toISOString().slice(0, 10));
    const sessionMinutes = Number(days.at(-1)?.minutes);
    assert.ok(Math.abs(sessionMinutes - usageMs / 60_000) <= 0.02, `${sessionMinutes} minutes for a session of ${usageMs} ms`);

    // A stream opened with the API key itself (no platform session) counts on the same day.
    const direct = await streamAudio({ url: `${server.url.replace(/^http/, 'ws')}/vt?authorization=${encodeURIComponent(`api-key ${adminKey}`)}`, config: CONFIG, samples, sampleRateHz: 16000, trailingSilenceMs: 1500 });
    assert.deepEqual(direct.events.filter((e) => e.kind === 'error'), []);
    const withDirect = await until('the key stream\'s minutes', () => get(adminKey, '/ops/usage?days=7'),
      (r) => Number((r.body.days as Array<{ minutes: number }>).at(-1)?.minutes) > sessionMinutes, WAIT_MS);
    const added = Number((withDirect.body.days as Array<{ minutes: number }>).at(-1)?.minutes) - sessionMinutes;
    assert.ok(Math.abs(added - samples.length / 16_000 / 60) <= 0.04, `the key stream added ${added} minutes for ${samples.length / 16_000} s of speech`);
    assert.ok(Number(days.at(-1)?.final_p50_ms) > 0 && Number(days.at(-1)?.final_p95_ms) >= Number(days.at(-1)?.final_p50_ms));
    const other = (await get(otherKey, '/ops/usage?days=7')).body.days as Array<{ minutes: number; utterances: number }>;
    assert.ok(other.every((d) => d.minutes === 0 && d.utterances === 0), 'another organization\'s usage is its own');

    const engines = (await get(adminKey, '/ops/engines')).body as { engines: Array<{ id: string; kind: string; health: { requests: number } | null }>; language_pairs: string[] };
    assert.deepEqual(engines.engines.map((e) => `${e.kind}:${e.id}`), ['stt:pocketsphinx', 'mt:apertium', 'tts:espeak-ng']);
    assert.ok(Number(engines.engines.find((e) => e.id === 'espeak-ng')?.health?.requests) > 0, 'the synthesizer reported its requests');
    assert.ok(engines.language_pairs.includes('en-es'));
  });

  it('lists configured engines with their routes and never their settings', () => {
    const json = JSON.stringify({
      engines: [
        { id: 'cloud-mt', kind: 'mt', name: 'libretranslate', settings: { url: 'https://user:hunter2@mt.example/', api_key: 'sk-secret-value' } },
        { id: 'apertium', kind: 'mt', name: 'apertium' },
      ],
      routes: { mt: { 'en-es': ['cloud-mt', 'apertium'], default: ['apertium'] } },
    });
    const listed = configuredEngines({ json });
    assert.deepEqual(listed, [
      { id: 'cloud-mt', kind: 'mt', name: 'libretranslate', routes: ['en-es'] },
      { id: 'apertium', kind: 'mt', name: 'apertium', routes: ['en-es', 'default'] },
      { id: 'pocketsphinx', kind: 'stt', name: 'pocketsphinx', routes: [] },
      { id: 'espeak-ng', kind: 'tts', name: 'espeak-ng', routes: [] },
    ]);
    assert.ok(!JSON.stringify(listed).includes('hunter2') && !JSON.stringify(listed).includes('sk-secret'));
  });
});
