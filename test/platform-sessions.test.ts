import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { and, eq } from 'drizzle-orm';
import { TokenVerifier } from 'livekit-server-sdk';
import WebSocket from 'ws';
import { concatSamples } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resampler.js';
import { streamAudio, type ReceivedEvent } from '../src/client/vt-client.js';
import { auditLog, escalations, glossaryTerms, memberships, sessions, utterances } from '../src/db/schema.js';
import { createApiKey, newId } from '../src/domain/api-keys.js';
import { mergeDictionaries } from '../src/pipeline/glossary.js';
import { closeEngines } from '../src/providers/index.js';
import { GlossaryCache } from '../src/realtime/glossary-cache.js';
import { sessionLanguage, withGlossaryWords } from '../src/realtime/session-runtime.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Final = Extract<ReceivedEvent, { kind: 'transcript' }>;
type Translate = Extract<ReceivedEvent, { kind: 'translate' }>;
interface Created { sessionId: string; roomToken: string; liveKitUrl: string; participantId: string; streamUrl: string; streamToken: string }

const CONFIG = { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' };

/** The LibriVox recordings one after another with 0.8 s pauses (≈29 s at 16 kHz); "might" first occurs in the third. */
function speech(): Int16Array {
  const order = ['0880', '0890', '0870', '0920', '0930'];
  const parts: Int16Array[] = [];
  for (const id of order) {
    const r = librivoxRecordings().find((x) => x.id.endsWith(id));
    assert.ok(r, id);
    const { samples, sampleRateHz } = loadWav(r.path);
    parts.push(resample(samples, sampleRateHz, 16000), new Int16Array(12_800));
  }
  return concatSamples(parts);
}

const finalsOf = (events: ReceivedEvent[]): Final[] => events.filter((e): e is Final => e.kind === 'transcript' && e.final);
const translationsOf = (events: ReceivedEvent[]): Translate[] => events.filter((e): e is Translate => e.kind === 'translate');
const streamUrlFor = (c: Created): string => `${c.streamUrl}?authorization=${encodeURIComponent(`api-key ${c.streamToken}`)}`;

/** Opens a stream, sends the config and returns the first event and the close code (it must be refused). */
async function openAndRefuse(url: string, config: Record<string, unknown>): Promise<{ event: Record<string, Record<string, unknown>> | undefined; code: number }> {
  const ws = new WebSocket(url);
  const events: string[] = [];
  ws.on('message', (d, isBinary) => void (isBinary || events.push(d.toString())));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.send(JSON.stringify({ config }));
  const timer = setTimeout(() => ws.terminate(), 10_000);
  const code = await closed;
  clearTimeout(timer);
  return { event: events[0] ? (JSON.parse(events[0]) as Record<string, Record<string, unknown>>) : undefined, code };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('platform sessions (spec 000 "Sessions", "Active Session Management")', () => {
  let server: Server;
  let fake: http.Server;
  const fakeRequests: Array<{ url: string; body: string; authorization: string | undefined }> = [];
  let keys: { owner: string; admin: string; member: string; other: string; multi: string; queue: string; glossary: string };
  let otherOrgId: string;
  let glossaryOrgId: string;

  const call = (method: 'GET' | 'POST', url: string, key: string | undefined, payload?: unknown) =>
    server.app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
  /** Creates a session over a real socket, so its streamUrl is the server's. */
  const create = async (key: string, body: Record<string, unknown> = {}): Promise<Created> => {
    const res = await fetch(`${server.url}/api/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_lang: 'en', target_lang: 'es', ...body }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text) as Created;
  };
  const sessionRow = async (id: string) => (await server.ctx.db.select().from(sessions).where(eq(sessions.id, id)))[0];

  before(async () => {
    fake = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        fakeRequests.push({ url: req.url ?? '', body, authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    server = await startTestServer({
      rateLimitPerMin: 1000, slackWebhookUrl: `${fakeUrl}/slack`,
      liveKit: { url: fakeUrl, apiKey: 'devkey', apiSecret: 'a-test-secret-of-at-least-32-characters', configured: true },
    });
    const db = server.ctx.db;
    const k = async (org: string, role: 'owner' | 'admin' | 'member') => createApiKey(db, { organizationName: org, role });
    const other = await k('other', 'owner');
    const multi = await k('default', 'member');
    otherOrgId = other.organizationId;
    await db.insert(memberships).values({ apiKeyId: multi.keyId, organizationId: otherOrgId, role: 'admin' });
    const glossary = await k('glossary', 'owner');
    glossaryOrgId = glossary.organizationId;
    keys = {
      owner: server.apiKey, admin: (await k('default', 'admin')).key, member: (await k('default', 'member')).key, other: other.key,
      multi: multi.key, queue: (await k('queue', 'owner')).key, glossary: glossary.key,
    };
  });

  after(async () => {
    await server.close();
    // LiveKit is configured: the interpreter tried to join the (fake) server through rtc-node, whose
    // native runtime keeps the process alive until it is disposed (once, at the end of the process).
    await dispose();
    await new Promise((r) => fake.close(r));
    await closeEngines(await testEngines());
  });

  it('creates a session: ids, a LiveKit token for its room and participant, a /vt stream URL and token', async () => {
    const res = await fetch(`${server.url}/api/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${keys.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_lang: 'en-US', target_lang: 'es-MX', speaker_name: 'Dr. Smith' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Created;
    assert.match(body.sessionId, /^sess_[0-9A-Za-z]{20}$/);
    assert.match(body.participantId, /^usr_[0-9A-Za-z]{20}$/);
    assert.equal(body.liveKitUrl, server.ctx.config.liveKit.url);
    assert.equal(body.streamUrl, `${server.url.replace('http', 'ws')}/vt`);
    assert.match(body.streamToken, /^vt_/);
    const claims = await new TokenVerifier('devkey', 'a-test-secret-of-at-least-32-characters').verify(body.roomToken);
    assert.equal(claims.video?.room, body.sessionId);
    assert.equal(claims.video?.roomJoin, true);
    assert.equal(claims.sub, body.participantId);
    assert.equal(claims.name, 'Dr. Smith');
    const row = await sessionRow(body.sessionId);
    assert.equal(row?.status, 'created');
    assert.equal(row?.speakerName, 'Dr. Smith');
    assert.equal((await create(keys.member)).sessionId.startsWith('sess_'), true, 'any role may create a session');
  });

  it('rejects bad languages (400), a missing key (401) and an organization the key does not belong to (403)', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ source_lang: 'english!', target_lang: 'es' }, /Invalid source_lang "english!"/],
      [{ source_lang: 'en', target_lang: 'es_ES' }, /Invalid target_lang/],
      [{ source_lang: 'fr', target_lang: 'es' }, /Unsupported source_lang "fr"; supported: en/],
      [{ source_lang: 'en', target_lang: 'de' }, /Unsupported target_lang "de" for source en; supported: .*es/],
      [{ target_lang: 'es' }, /source_lang/],
    ];
    for (const [payload, message] of cases) {
      const res = await call('POST', '/api/sessions', keys.owner, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'BAD_REQUEST');
      assert.match(res.json<{ error: { message: string } }>().error.message, message);
    }
    const anonymous = await call('POST', '/api/sessions', undefined, { source_lang: 'en', target_lang: 'es' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED');
    const foreign = await call('POST', '/api/sessions', keys.owner, { source_lang: 'en', target_lang: 'es', organization_id: otherOrgId });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
  });

  it('honors organization_id for a member of that organization, with its role there', async () => {
    const made = await create(keys.multi, { organization_id: otherOrgId });
    assert.equal((await sessionRow(made.sessionId))?.organizationId, otherOrgId);
    const listed = await call('GET', '/api/sessions', keys.other);
    assert.ok(listed.json<{ sessions: Array<{ id: string }> }>().sessions.some((s) => s.id === made.sessionId));
    const own = await call('GET', '/api/sessions', keys.owner);
    assert.ok(!own.json<{ sessions: Array<{ id: string }> }>().sessions.some((s) => s.id === made.sessionId), 'listed in the key\'s home org');
    // admin in "other" through the membership, member at home: it may revoke there.
    const revoked = await call('POST', `/api/sessions/${made.sessionId}/revoke/${made.participantId}`, keys.multi);
    assert.equal(revoked.statusCode, 200, revoked.body);
  });

  it('lists sessions newest first with pagination and a total, only the caller\'s organization', async () => {
    const made = [await create(keys.queue), await create(keys.queue), await create(keys.queue)];
    const page = await call('GET', '/api/sessions?limit=2&offset=0', keys.queue);
    assert.equal(page.statusCode, 200);
    const body = page.json<{ sessions: Array<Record<string, unknown>>; total: number }>();
    assert.equal(body.total, 3);
    assert.deepEqual(body.sessions.map((s) => s.id), [made[2]?.sessionId, made[1]?.sessionId]);
    // Never started: started_at is the creation time (a string, as spec 000 types it), duration 0.
    const first = body.sessions[0] ?? {};
    assert.deepEqual({ ...first, started_at: typeof first.started_at }, {
      id: made[2]?.sessionId, status: 'created', source_lang: 'en', target_lang: 'es', started_at: 'string', ended_at: null, duration_seconds: 0,
    });
    assert.ok(Math.abs(Date.parse(String(first.started_at)) - Date.now()) < 60_000, `started_at ${String(first.started_at)}`);
    const rest = await call('GET', '/api/sessions?limit=2&offset=2', keys.queue);
    assert.deepEqual(rest.json<{ sessions: Array<{ id: string }> }>().sessions.map((s) => s.id), [made[0]?.sessionId]);
    const defaults = await call('GET', '/api/sessions', keys.queue);
    assert.equal(defaults.json<{ sessions: unknown[] }>().sessions.length, 3);
    // "max 100" is a cap, not a refusal; non-numbers and negative offsets are 400.
    const capped = await call('GET', '/api/sessions?limit=500&offset=0', keys.queue);
    assert.equal(capped.statusCode, 200, capped.body);
    assert.equal(capped.json<{ sessions: unknown[] }>().sessions.length, 3);
    assert.equal((await call('GET', '/api/sessions?limit=0', keys.queue)).json<{ sessions: unknown[] }>().sessions.length, 1);
    for (const q of ['limit=abc', 'offset=x', 'limit=1.5', 'offset=-1', 'offset=-3']) {
      const bad = await call('GET', `/api/sessions?${q}`, keys.queue);
      assert.equal(bad.statusCode, 400, q);
      assert.equal(bad.json<{ error: { code: string } }>().error.code, 'BAD_REQUEST');
    }
    assert.equal((await call('GET', '/api/sessions', undefined)).statusCode, 401);
    assert.equal((await call('GET', `/api/sessions?organization_id=${otherOrgId}`, keys.queue)).statusCode, 403);
  });

  it('escalates: queue positions 1, 2, then 2 once the first is assigned; reason audited; Slack notified', async () => {
    const a = await create(keys.queue);
    const b = await create(keys.queue);
    const esc = async (id: string, payload: unknown) => call('POST', `/api/sessions/${id}/escalate`, keys.queue, payload);
    const first = await esc(a.sessionId, { reason: 'Medical terminology' });
    assert.equal(first.statusCode, 200, first.body);
    const e1 = first.json<{ escalationId: string; queuePosition: number }>();
    assert.match(e1.escalationId, /^esc_/);
    assert.equal(e1.queuePosition, 1);
    const e2 = (await esc(b.sessionId, {})).json<{ escalationId: string; queuePosition: number }>();
    assert.equal(e2.queuePosition, 2);
    await server.ctx.db.update(escalations).set({ status: 'assigned' }).where(eq(escalations.id, e1.escalationId));
    assert.equal((await esc(a.sessionId, { reason: 'again' })).json<{ queuePosition: number }>().queuePosition, 2);
    const audit = await server.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'session.escalated'), eq(auditLog.targetId, e1.escalationId)));
    assert.deepEqual(audit[0]?.detail, { sessionId: a.sessionId, reason: 'Medical terminology', queuePosition: 1 });
    await until('the Slack webhook', async () => fakeRequests.filter((r) => r.url === '/slack').length >= 3);
    const slack = fakeRequests.filter((r) => r.url === '/slack').map((r) => JSON.parse(r.body) as { text: string });
    const firstText = slack.find((m) => m.text.includes(a.sessionId) && m.text.includes('Medical terminology'))?.text ?? '';
    assert.match(firstText, /queue position 1/);
    assert.match(slack.find((m) => m.text.includes(b.sessionId))?.text ?? '', /queue position 2\. Reason: none given/);
    assert.equal((await call('POST', `/api/sessions/${a.sessionId}/escalate`, keys.other, {})).statusCode, 404, 'another org\'s session');
    assert.equal((await call('POST', '/api/sessions/sess_unknown/escalate', keys.queue, {})).statusCode, 404);
    assert.equal((await call('POST', `/api/sessions/${a.sessionId}/escalate`, undefined, {})).statusCode, 401);
    assert.equal((await esc(a.sessionId, { reason: 'x'.repeat(2001) })).statusCode, 400);
    const bare = await call('POST', `/api/sessions/${b.sessionId}/escalate`, keys.queue);
    assert.equal(bare.statusCode, 200, `no body at all: ${bare.body}`);
    assert.equal(bare.json<{ queuePosition: number }>().queuePosition, 3);
  });

  it('revoke: 403 for a member, 404 for unknown or foreign ids, success calls LiveKit and is audited', async () => {
    const s = await create(keys.owner);
    const path = `/api/sessions/${s.sessionId}/revoke/${s.participantId}`;
    const member = await call('POST', path, keys.member);
    assert.equal(member.statusCode, 403);
    assert.equal(member.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
    assert.equal((await call('POST', path, keys.other)).statusCode, 404);
    assert.equal((await call('POST', `/api/sessions/sess_nope/revoke/${s.participantId}`, keys.owner)).statusCode, 404);
    const unknown = await call('POST', `/api/sessions/${s.sessionId}/revoke/usr_nobody`, keys.admin);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
    assert.equal((await call('POST', path, undefined)).statusCode, 401);
    const ok = await call('POST', path, keys.admin);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { success: true });
    const lk = fakeRequests.find((r) => r.url === '/twirp/livekit.RoomService/RemoveParticipant' && r.body.includes(s.participantId));
    assert.ok(lk, 'LiveKit RemoveParticipant was not called');
    assert.deepEqual(JSON.parse(lk.body), { room: s.sessionId, identity: s.participantId });
    assert.match(lk.authorization ?? '', /^Bearer ey/);
    const audit = await server.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'session.participant_revoked'), eq(auditLog.targetId, s.participantId)));
    assert.equal(audit.length, 1);
    const refused = await openAndRefuse(streamUrlFor(s), CONFIG);
    assert.equal(refused.event?.error?.code, 403);
    assert.equal(refused.code, 4403);
  });

  it('a session stream: created → active → completed; then refused (409/4409), revoke and escalate answer 409', async () => {
    const s = await create(keys.admin);
    const mismatch = await openAndRefuse(streamUrlFor(s), { ...CONFIG, target_language: 'ca' });
    assert.equal(mismatch.event?.error?.code, 400);
    assert.match(String(mismatch.event?.error?.description), /This session translates en → es; the config asks for en-US → ca/);
    assert.equal(mismatch.code, 4400);
    assert.equal((await sessionRow(s.sessionId))?.status, 'created', 'a refused stream does not start the session');
    const result = await streamAudio({ url: streamUrlFor(s), config: CONFIG, samples: new Int16Array(16_000), sampleRateHz: 16000, idleCloseMs: 300, firstEventWaitMs: 300 });
    assert.equal(result.closeCode, 1000);
    await until('completed', async () => (await sessionRow(s.sessionId))?.status === 'completed');
    const row = await sessionRow(s.sessionId);
    assert.ok(row?.startedAt && row.endedAt && row.endedAt >= row.startedAt);
    assert.ok(row.usageMs >= 1900 && row.usageMs <= 2100, `usage ${row.usageMs} ms for 2 s of audio (1 s + 1 s trailing silence)`);
    const listed = (await call('GET', '/api/sessions', keys.admin)).json<{ sessions: Array<{ id: string; status: string; ended_at: string | null; duration_seconds: number }> }>();
    const entry = listed.sessions.find((x) => x.id === s.sessionId);
    assert.equal(entry?.status, 'completed');
    assert.match(entry?.ended_at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(entry && entry.duration_seconds >= 1 && entry.duration_seconds <= 10);
    const again = await openAndRefuse(streamUrlFor(s), CONFIG);
    assert.equal(again.event?.error?.code, 409);
    assert.equal(again.event?.error?.reason, 'Conflict');
    assert.equal(again.code, 4409);
    const revoke = await call('POST', `/api/sessions/${s.sessionId}/revoke/${s.participantId}`, keys.owner);
    assert.equal(revoke.statusCode, 409);
    assert.equal(revoke.json<{ error: { code: string } }>().error.code, 'CONFLICT');
    assert.equal((await call('POST', `/api/sessions/${s.sessionId}/escalate`, keys.owner, {})).statusCode, 409);
  });

  it('end to end: stream LibriVox speech, list it as active, revoke mid-session; the finals seen are the utterances stored', async () => {
    const s = await create(keys.owner, { speaker_name: 'Dr. Test' });
    let revokedAtMs = 0;
    let revokeAnsweredAtMs = 0;
    let midSession: Promise<{ active: unknown; revokeStatus: number }> | undefined;
    const seen: ReceivedEvent[] = [];
    const result = await streamAudio({
      url: streamUrlFor(s), config: { ...CONFIG, transcript: { interim: true } }, samples: speech(), sampleRateHz: 16000,
      onEvent: (e) => {
        seen.push(e);
        if (e.kind !== 'translate' || midSession || translationsOf(seen).length < 2) return;
        midSession = (async () => {
          const active = (await call('GET', '/api/sessions/active', keys.member)).json();
          revokedAtMs = Date.now();
          const revoke = await call('POST', `/api/sessions/${s.sessionId}/revoke/${s.participantId}`, keys.owner);
          revokeAnsweredAtMs = Date.now();
          return { active, revokeStatus: revoke.statusCode };
        })();
      },
    });
    assert.ok(midSession, 'never saw two translations');
    const { active, revokeStatus } = await midSession;
    assert.equal(revokeStatus, 200);
    const listed = (active as { sessions: Array<Record<string, unknown>> }).sessions.find((x) => x.id === s.sessionId);
    assert.deepEqual(listed && { ...listed, started_at: typeof listed.started_at }, {
      id: s.sessionId, status: 'active', source_lang: 'en', target_lang: 'es', started_at: 'string',
      participants: [{ user_id: s.participantId, role: 'owner' }],
    });
    assert.equal(result.closeCode, 4403);
    const error = result.events.find((e) => e.kind === 'error');
    assert.ok(error && error.kind === 'error' && error.code === 403 && /revoked/.test(error.description), JSON.stringify(error));
    console.log(`# revoke request → error event in ${error.atMs - revokedAtMs} ms (answer in ${revokeAnsweredAtMs - revokedAtMs} ms)`);
    // Disconnected at once: before the revoke answers (after LiveKit and the audit log), give or take delivery.
    assert.ok(error.atMs <= revokeAnsweredAtMs + 500, `error ${error.atMs - revokedAtMs} ms, answer ${revokeAnsweredAtMs - revokedAtMs} ms`);
    const reconnect = await openAndRefuse(streamUrlFor(s), CONFIG);
    assert.equal(reconnect.event?.error?.code, 403);
    assert.equal(reconnect.code, 4403);

    await until('completed', async () => (await sessionRow(s.sessionId))?.status === 'completed');
    const finals = finalsOf(result.events);
    const translations = translationsOf(result.events);
    const rows = await server.ctx.db.select().from(utterances).where(eq(utterances.sessionId, s.sessionId));
    console.log(`# ${finals.length} finals seen, ${rows.length} utterances stored, ${translations.length} translations seen`);
    assert.ok(finals.length >= 2);
    assert.deepEqual(rows.map((r) => [r.id, r.text]).sort(), finals.map((f) => [f.utteranceId, f.text]).sort());
    for (const f of finals) {
      const row = rows.find((r) => r.id === f.utteranceId);
      assert.ok(row);
      assert.equal(row.participantId, s.participantId);
      assert.equal(row.speakerName, 'Dr. Test');
      assert.equal(row.organizationId, (await sessionRow(s.sessionId))?.organizationId);
      // pocketsphinx's mean word posterior, for transcripts of two words or more.
      if (f.text.trim().split(/\s+/).length >= 2) assert.ok(row.confidence !== null && row.confidence > 0 && row.confidence <= 1, `confidence ${row.confidence} for "${f.text}"`);
      assert.equal(row.startedAt.getTime(), Date.parse(f.start));
      assert.equal(row.durationMs, f.duration);
      const t = translations.find((x) => x.utteranceId === f.utteranceId);
      assert.equal(row.translation, t?.text ?? null);
      if (t) {
        assert.ok(row.finalLatencyMs !== null && row.translationLatencyMs !== null, `no latencies for ${row.id}`);
        assert.ok(row.translationLatencyMs >= row.finalLatencyMs);
        if (t.text) assert.ok(row.firstAudioLatencyMs !== null && row.firstAudioLatencyMs >= row.translationLatencyMs);
        console.log(`#   "${row.text}" final ${row.finalLatencyMs} ms, translation ${row.translationLatencyMs} ms, first audio ${row.firstAudioLatencyMs} ms`);
      }
    }
    // Usage is the audio the server received: at least up to the end of the last final, at most what
    // a real-time client can send before the revoke (less when the server paused reading).
    const usageMs = (await sessionRow(s.sessionId))?.usageMs ?? 0;
    const sentMs = revokedAtMs - result.firstSendAtMs;
    const heardMs = Math.max(...finals.map((f) => Date.parse(f.start) + f.duration)) - result.firstSendAtMs;
    console.log(`# usage ${usageMs} ms; ≈${sentMs} ms sent before the revoke; finals reach ${heardMs} ms`);
    assert.ok(usageMs >= heardMs - 300 && usageMs <= sentMs + 1000, `usage ${usageMs} vs ${heardMs}…${sentMs}`);
    assert.equal((await call('GET', '/api/sessions/active', keys.owner)).json<{ sessions: Array<{ id: string }> }>().sessions.some((x) => x.id === s.sessionId), false);

    // The completed session's intelligence is computed from what was stored: its counts are what the
    // client saw, and its latency is the client's own measure (end of speech → translation received).
    const intel = await call('GET', `/api/sessions/${s.sessionId}/intelligence`, keys.owner);
    assert.equal(intel.statusCode, 200, intel.body);
    const figures = intel.json<{ transcriptCount: number; speakerCount: number; averageLatencyMs: number; durationSeconds: number; averageConfidence: number }>();
    const spoken = finals.filter((f) => f.text.trim().length > 0);
    assert.equal(figures.transcriptCount, spoken.length);
    assert.equal(figures.speakerCount, 1);
    const confidences = rows.flatMap((r) => (r.text.trim() && r.confidence !== null ? [r.confidence] : []));
    assert.ok(confidences.length >= 1, 'no stored confidence');
    assert.equal(figures.averageConfidence, Math.round((confidences.reduce((a, b) => a + b, 0) / confidences.length) * 100) / 100);
    console.log(`# confidences ${confidences.map((c) => c.toFixed(2)).join(', ')} → averageConfidence ${figures.averageConfidence}`);
    const clientLatencies = spoken.flatMap((f) => {
      const t = translations.find((x) => x.utteranceId === f.utteranceId);
      return t ? [t.atMs - (Date.parse(f.start) + f.duration)] : [];
    });
    const clientAverageMs = clientLatencies.reduce((a, b) => a + b, 0) / clientLatencies.length;
    console.log(`# intelligence: ${figures.transcriptCount} transcripts, average latency ${figures.averageLatencyMs} ms (client saw ${Math.round(clientAverageMs)} ms), ${figures.durationSeconds} s`);
    // The server measures from when it read the last speech frame, the client from when it sent it:
    // equal on a quiet machine; under load the server reads late, so its figure may only be lower.
    const slackMs = Math.max(150, 0.3 * clientAverageMs);
    assert.ok(
      figures.averageLatencyMs <= clientAverageMs + 50 && figures.averageLatencyMs >= clientAverageMs - slackMs,
      `server ${figures.averageLatencyMs} ms vs client ${clientAverageMs} ms`,
    );
    assert.ok(figures.durationSeconds >= Math.floor(heardMs / 1000) - 1 && figures.durationSeconds <= Math.ceil(sentMs / 1000) + 2, `duration ${figures.durationSeconds} s`);
  });

  it('org glossary in a running stream: config wins on the same term; a term imported mid-stream applies to later utterances', async () => {
    const org = glossaryOrgId;
    await server.ctx.db.insert(glossaryTerms).values({ id: newId('gloss'), organizationId: org, sourceTerm: 'was', targetTerm: 'estabaglosa', languagePair: 'en-es' });
    let insertedAtMs = 0;
    let inserting: Promise<unknown> | undefined;
    const result = await streamAudio({
      url: `${server.url.replace('http', 'ws')}/vt`,
      config: { ...CONFIG, api_key: keys.glossary, translation_dictionary: [{ source: 'was', target: 'fueconfig' }] },
      samples: speech(), sampleRateHz: 16000,
      onEvent: (e) => {
        if (e.kind !== 'translate' || inserting) return;
        insertedAtMs = Date.now();
        // Imported through the API, as an administrator would while the session runs.
        const form = new FormData();
        form.append('file', new Blob(['source_term,target_term,language_pair\nmight,quizaglosa,en-es\n'], { type: 'text/csv' }), 'terms.csv');
        inserting = fetch(`${server.url}/api/glossary/import`, { method: 'POST', headers: { authorization: `Bearer ${keys.glossary}` }, body: form })
          .then(async (res) => assert.deepEqual(await res.json(), { imported: 1, skipped: 0, errors: [] }));
      },
    });
    await inserting;
    const finals = finalsOf(result.events);
    const translations = translationsOf(result.events);
    const translationOf = (f: Final) => translations.find((t) => t.utteranceId === f.utteranceId);
    const withWas = finals.filter((f) => /\bwas\b/i.test(f.text));
    assert.ok(withWas.length > 0, `no final with "was": ${finals.map((f) => f.text).join(' | ')}`);
    for (const f of withWas) assert.match(translationOf(f)?.text ?? '', /fueconfig/);
    assert.ok(!translations.some((t) => t.text.includes('estabaglosa')), 'the glossary overrode the config dictionary');
    const before = translations.filter((t) => t.atMs <= insertedAtMs);
    assert.ok(before.length > 0 && !before.some((t) => t.text.includes('quizaglosa')));
    const later = finals.filter((f) => /\bmight\b/i.test(f.text) && (translationOf(f)?.atMs ?? 0) > insertedAtMs + 1500);
    assert.ok(later.length > 0, `no later final with "might": ${finals.map((f) => f.text).join(' | ')}`);
    for (const f of later) assert.match(translationOf(f)?.text ?? '', /quizaglosa/, `"${f.text}" → "${translationOf(f)?.text}"`);
    console.log(`# glossary term applied in ${later.length} later utterance(s)`);
  });

  it('glossary helpers: merge precedence, vocabulary words, cache TTL; session language refinement', async () => {
    assert.deepEqual(mergeDictionaries([{ source: 'Copay', target: 'quote-part' }], [{ source: ' copay ', target: 'copago' }, { source: 'email', target: 'correo' }]),
      [{ source: 'Copay', target: 'quote-part' }, { source: 'email', target: 'correo' }]);
    assert.deepEqual(withGlossaryWords(['Copay'], [{ source: 'myocardial infarction', target: 'x' }, { source: 'copay', target: 'y' }]), ['Copay', 'myocardial', 'infarction']);
    let now = 0;
    let loads = 0;
    const cache = new GlossaryCache(async () => [{ source: 'a', target: String(++loads) }], 1000, () => now);
    const [x, y] = await Promise.all([cache.get('o', 'en', 'es'), cache.get('o', 'en', 'es')]);
    assert.equal(loads, 1);
    assert.deepEqual(x, y);
    now = 999;
    assert.equal((await cache.get('o', 'en', 'es'))[0]?.target, '1');
    now = 1000;
    assert.equal((await cache.get('o', 'en', 'es'))[0]?.target, '2');
    assert.equal(sessionLanguage('en', 'en-US'), 'en-US');
    assert.equal(sessionLanguage('es-MX', 'es-ES'), 'es-MX');
    assert.equal(sessionLanguage('en', 'fr-FR'), undefined);
  });

  it('publishes the session routes in the OpenAPI document', async () => {
    const doc = (await call('GET', '/api/openapi.json', undefined)).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
    for (const [p, m] of [['/api/sessions', 'post'], ['/api/sessions', 'get'], ['/api/sessions/active', 'get'], ['/api/sessions/{id}/revoke/{participantId}', 'post'], ['/api/sessions/{id}/escalate', 'post']] as const) {
      assert.deepEqual(doc.paths[p]?.[m]?.tags, ['sessions'], `${m} ${p}`);
    }
  });
});
