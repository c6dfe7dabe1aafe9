/**
 * What the conversations surface tells and serves about each language (docs/conversations.md
 * "Languages", "Typed messages"): `GET /api/v1/languages` says which languages can be heard, shown
 * and spoken and lists every pair; a target without a voice is served as text only on
 * `/api/v1/ws/single`; a participant whose speech cannot be recognized can type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeEngines } from '../src/providers/index.js';
import type { Engines } from '../src/providers/registry.js';
import { librivoxSamples, startTestServer, testEngines } from './helpers.js';
import { Peer } from './room-peer.js';

interface Languages {
  supported_languages: Array<[string, string]>;
  default_source: string;
  default_target: string;
  languages: Array<{ code: string; name: string; heard: boolean; shown: boolean; spoken: boolean }>;
  pairs: Array<{ source: string; target: string; speech: boolean }>;
}

describe('conversations: what each language can do', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let engines: Engines;
  let ws = '';
  before(async () => {
    [server, engines] = await Promise.all([startTestServer(), testEngines()]);
    ws = server.url.replace('http', 'ws');
  });
  after(async () => {
    await server.close();
    await closeEngines(engines);
  });

  it('GET /api/v1/languages keeps spec 003\'s fields and adds heard/shown/spoken per language and every pair', async () => {
    const res = await fetch(`${server.url}/api/v1/languages`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Languages;
    assert.equal(body.default_source, 'en-US');
    assert.equal(body.default_target, 'es');
    assert.deepEqual(body.languages.map((l) => [l.code, l.name]), body.supported_languages);
    const en = body.languages.find((l) => l.code === 'en-US');
    const es = body.languages.find((l) => l.code === 'es');
    const gl = body.languages.find((l) => l.code === 'gl');
    assert.deepEqual(en, { code: 'en-US', name: 'American English', heard: true, shown: true, spoken: true });
    assert.deepEqual(es, { code: 'es', name: 'Spanish', heard: false, shown: true, spoken: true });
    assert.deepEqual(gl, { code: 'gl', name: 'Galician', heard: false, shown: true, spoken: false });
    // Only a recognized language is a source; Galician is shown as text only.
    assert.deepEqual([...new Set(body.pairs.map((p) => p.source))], ['en-US']);
    assert.deepEqual(body.pairs.find((p) => p.target === 'gl'), { source: 'en-US', target: 'gl', speech: false });
    assert.deepEqual(body.pairs.find((p) => p.target === 'es'), { source: 'en-US', target: 'es', speech: true });
    for (const p of body.pairs) assert.ok(body.languages.some((l) => l.code === p.target && l.shown), `pair target ${p.target}`);
  });

  it('/api/v1/ws/single: a target without a voice (Galician) is served as text when the config asks for no speech', async () => {
    const peer = new Peer(`${ws}/api/v1/ws/single`);
    await peer.opened;
    // With speech, the voice is still required.
    peer.send({ type: 'config', language: 'en-US', translate_language: 'gl', voice: 'female', sample_rate: 16000, speech: true });
    await peer.until('the voice error', () => peer.json.some((m) => 'error' in m));
    assert.match(String(peer.json.find((m) => 'error' in m)?.error), /Invalid voice "female" for gl/);
    const errorsBefore = peer.json.filter((m) => 'error' in m).length;

    peer.send({ type: 'config', language: 'en-US', translate_language: 'gl', voice: 'female', sample_rate: 16000, speech: false });
    await peer.speak(librivoxSamples('0880'));
    await peer.until('a Galician final', () => peer.finals().length >= 1, 30_000);
    const final = peer.finals()[0] as { original: string; translation: string; latency_ms: number; utterance_id: string };
    assert.match(final.original, /young man/);
    assert.equal(final.translation, (await engines.mt.translate([final.original], { source: 'en', target: 'gl' })).join(''));
    assert.notEqual(final.translation, final.original);
    assert.ok(final.latency_ms >= 0 && final.latency_ms < 5000, `latency ${final.latency_ms}`);
    assert.equal(typeof final.utterance_id, 'string');
    assert.equal(peer.audioBytes, 0, 'text only: no speech');
    assert.equal(peer.json.filter((m) => 'error' in m).length, errorsBefore, JSON.stringify(peer.json.filter((m) => 'error' in m)));
    await peer.close();
  });

  it('a room participant whose speech cannot be recognized types: {"type":"text"} is translated and delivered like a final', async () => {
    const created = await fetch(`${server.url}/api/v1/session/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en-US', translate_language: 'es' }) });
    const { conversation_id: id } = (await created.json()) as { conversation_id: string };
    const a = await Peer.join(server.url, id, 'en-US');
    const b = await Peer.join(server.url, id, 'es');
    b.send({ type: 'text', text: 'el perro come' });
    await a.until('A reads B\'s typed message', () => a.finals().length >= 1);
    await b.until('B gets its own copy', () => b.finals().length >= 1);
    const theirs = a.finals()[0] as { is_mine: boolean; original: string; translation: string; utterance_id: string };
    const mine = b.finals()[0] as { is_mine: boolean; original: string; translation: string; utterance_id: string };
    assert.equal(theirs.is_mine, false);
    assert.equal(theirs.original, 'el perro come');
    assert.equal(theirs.translation, (await engines.mt.translate(['el perro come'], { source: 'es', target: 'en' })).join(''));
    assert.deepEqual([mine.is_mine, mine.original, mine.translation, mine.utterance_id], [true, 'el perro come', 'el perro come', theirs.utterance_id]);
    await a.until('speech of the typed message for A', () => a.audioBytes > 8000);

    b.send({ type: 'text', text: '   ' });
    await b.until('the empty-text error', () => b.json.some((m) => 'error' in m));
    assert.match(String(b.json.find((m) => 'error' in m)?.error), /"text" of 1 to 1000 characters/);
    await Promise.all([a.close(), b.close()]);
  });
});
