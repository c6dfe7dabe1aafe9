import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { eq } from 'drizzle-orm';
import { RoomServiceClient, TokenVerifier } from 'livekit-server-sdk';
import { sessions, utterances } from '../src/db/schema.js';
import { closeEngines } from '../src/providers/index.js';
import { freePort, librivoxSamples, prewarmRecognizers, startTestServer, testEngines } from './helpers.js';
import { TestRoomClient, type ReceivedMessage } from './livekit-room-client.js';
import { liveKitSkipReason, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const SPEC_001_FIELDS = ['is_final', 'language_detected', 'text', 'timestamp', 'type'];

/** Asserts a spec-001 data message field by field. */
function assertTranscriptMessage(m: ReceivedMessage, type: string, extraFields: string[] = []): void {
  assert.deepEqual(Object.keys(m.message).sort(), [...SPEC_001_FIELDS, ...extraFields].sort(), `fields of ${JSON.stringify(m.message)}`);
  assert.equal(m.message.type, type);
  assert.equal(typeof m.message.text, 'string');
  assert.ok((m.message.text as string).trim().length > 0, 'text is not empty');
  assert.equal(typeof m.message.timestamp, 'number');
  const timestampS = m.message.timestamp as number;
  assert.ok(Math.abs(timestampS - m.receivedAtMs / 1000) < 5, `timestamp ${timestampS} is Unix seconds near ${m.receivedAtMs / 1000}`);
  assert.ok(timestampS > 1.7e9 && timestampS < 1e10, 'timestamp is in seconds, not ms');
  assert.equal(typeof m.message.is_final, 'boolean');
  assert.equal(m.message.language_detected, 'en-US');
  assert.equal(m.from, 'tolk-interpreter');
}

async function postJson(url: string, body: unknown, key: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('LiveKit rooms: spec 001 sessions and the interpreter on a real livekit-server', { skip: liveKitSkipReason() }, () => {
  let lk: TestLiveKitServer;
  let server: TestServer;
  let api: RoomServiceClient;
  const clients: TestRoomClient[] = [];

  before(async () => {
    lk = await startLiveKitServer();
    server = await startTestServer({ liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true } });
    api = new RoomServiceClient(lk.httpUrl, lk.apiKey, lk.apiSecret);
    await prewarmRecognizers(2);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    await closeEngines(await testEngines());
    await dispose();
    await lk?.close();
  });

  it('spec 001: the client publishes a LibriVox recording; the interpreter publishes transcripts, translations, text streams and speech', { timeout: 120_000 }, async () => {
    const created = await postJson(`${server.url}/api/beta1/session`, { source_language: 'en-US', target_language: 'es-ES', voice_type: 'clone' }, server.apiKey);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.deepEqual(Object.keys(created.json).sort(), ['room_name', 'token', 'url']);
    const { url, token, room_name: roomName } = created.json as { url: string; token: string; room_name: string };
    assert.equal(url, lk.url);
    assert.match(roomName, /^api-[0-9a-f]{16}$/);

    // The token: join this room, publish the microphone and data, subscribe — nothing more.
    const claims = await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(token);
    assert.match(claims.sub ?? '', /^usr_/);
    assert.equal(claims.name, 'API Client');
    assert.deepEqual(claims.video, {
      roomJoin: true, room: roomName, canPublish: true, canPublishSources: ['microphone'], canSubscribe: true, canPublishData: true,
    });

    // The room exists at the answer; the interpreter joins with the first participant (issue 24).
    const before = await api.listParticipants(roomName);
    assert.deepEqual(before.map((p) => p.identity), []);

    const client = new TestRoomClient();
    clients.push(client);
    await client.connect(url, token);
    await client.waitForInterpreter();
    await client.speak([librivoxSamples('0880'), 2000, librivoxSamples('0890'), 3000]);

    const finals = (): ReceivedMessage[] => client.ofType('original_transcript').filter((m) => m.message.is_final === true);
    await client.waitFor('two finals, a translation per final and speech after the last final', () => {
      const f = finals();
      const lastFinalMs = f.at(-1)?.receivedAtMs ?? Infinity;
      return f.length >= 2 && client.ofType('translated_transcript').length >= f.length && client.speechFrameTimesMs.some((t) => t > lastFinalMs);
    }, 60_000);

    const originals = client.ofType('original_transcript');
    const interims = originals.filter((m) => m.message.is_final === false);
    assert.ok(interims.length >= 1, 'interim original_transcript messages arrive while speaking');
    for (const m of originals) assertTranscriptMessage(m, 'original_transcript');
    const translations = client.ofType('translated_transcript');
    assert.equal(translations.length, finals().length, 'one translated_transcript per final');
    finals().forEach((final, i) => {
      const translation = translations[i] as ReceivedMessage;
      assertTranscriptMessage(translation, 'translated_transcript');
      assert.equal(translation.message.is_final, true);
      assert.ok(translation.receivedAtMs >= final.receivedAtMs, 'the translation follows its final');
      assert.notEqual(translation.message.text, final.message.text, 'the translation is Spanish, not the English final');
      // Speech with energy on the interpreter's track after each final (before the next final).
      const next = finals()[i + 1]?.receivedAtMs ?? Infinity;
      assert.ok(client.speechFrameTimesMs.some((t) => t > final.receivedAtMs && t <= next), `translated speech after final ${i}`);
    });
    assert.equal(client.audioSampleRateHz, 48_000);

    // LiveKit's transcription text streams: interim and final segments of the source, final segments of the target.
    const source = client.texts.filter((t) => t.attributes.language === 'en-US');
    const target = client.texts.filter((t) => t.attributes.language === 'es-ES');
    assert.ok(source.some((t) => t.attributes['lk.transcription_final'] === 'false'), 'interim text streams');
    assert.equal(source.filter((t) => t.attributes['lk.transcription_final'] === 'true').length, finals().length);
    assert.equal(target.length, translations.length);
    for (const t of [...source, ...target]) {
      assert.equal(t.from, 'tolk-interpreter');
      assert.ok(t.attributes['lk.segment_id'], 'a segment id');
      assert.ok(t.attributes['lk.transcribed_track_id']?.startsWith('TR_'), 'the transcribed track');
    }
    assert.deepEqual(target.map((t) => t.text), translations.map((m) => m.message.text));

    // The session behind the room records the finals and translations that were published.
    const [session] = await server.ctx.db.select().from(sessions).where(eq(sessions.roomName, roomName));
    assert.ok(session);
    assert.equal(session.sourceLang, 'en-US');
    const rows = await waitForRows(() => server.ctx.db.select().from(utterances).where(eq(utterances.sessionId, session.id)), finals().length);
    assert.deepEqual(rows.map((r) => r.text).sort(), finals().map((m) => m.message.text as string).sort());
  });

  it('spec 000: a platform session gets the interpreter; the active list shows the room; revoke removes the participant from the room', { timeout: 120_000 }, async () => {
    const created = await postJson(`${server.url}/api/sessions`, { source_lang: 'en-US', target_lang: 'es-ES', speaker_name: 'Dr. Smith' }, server.apiKey);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const { sessionId, participantId, roomToken, liveKitUrl } = created.json as { sessionId: string; participantId: string; roomToken: string; liveKitUrl: string };
    assert.equal(liveKitUrl, lk.url);
    assert.deepEqual((await api.listParticipants(sessionId)).map((p) => p.identity), []);

    const client = new TestRoomClient();
    clients.push(client);
    await client.connect(liveKitUrl, roomToken);
    await client.waitForInterpreter();
    assert.deepEqual((await api.listParticipants(sessionId)).map((p) => p.identity).sort(), [participantId, 'tolk-interpreter'].sort());
    await client.speak([librivoxSamples('0930'), 2500]);
    await client.waitFor('a final, its translation and speech', () => {
      const final = client.ofType('original_transcript').find((m) => m.message.is_final === true);
      return !!final && client.ofType('translated_transcript').length >= 1 && client.speechFrameTimesMs.some((t) => t > final.receivedAtMs);
    }, 60_000);
    // Spec-000 rooms name the speaker with each transcript.
    for (const m of client.messages) {
      assertTranscriptMessage(m, m.message.type as string, ['participant_id', 'speaker_name']);
      assert.equal(m.message.speaker_name, 'Dr. Smith');
      assert.equal(m.message.participant_id, participantId);
    }

    const headers = { authorization: `Bearer ${server.apiKey}` };
    const active = (await (await fetch(`${server.url}/api/sessions/active`, { headers })).json()) as { sessions: Array<{ id: string; participants: unknown[] }> };
    assert.deepEqual(active.sessions.find((s) => s.id === sessionId)?.participants, [{ user_id: participantId, role: 'owner' }]);

    const revoked = await fetch(`${server.url}/api/sessions/${sessionId}/revoke/${participantId}`, { method: 'POST', headers });
    assert.equal(revoked.status, 200);
    await client.waitFor('the revoked participant to be disconnected by the server', () => client.disconnected, 10_000);
    assert.ok(!(await api.listParticipants(sessionId)).some((p) => p.identity === participantId), 'the LiveKit server no longer lists the participant');

    // The revoked speaker's stream was the session's last: it completes, and its intelligence is computed.
    const intelligence = await waitForRows(async () => {
      const res = await fetch(`${server.url}/api/sessions/${sessionId}/intelligence`, { headers });
      return res.status === 200 ? [(await res.json()) as { transcriptCount: number; speakerCount: number }] : [];
    }, 1);
    assert.equal(intelligence[0]?.speakerCount, 1);
    assert.equal(intelligence[0]?.transcriptCount, client.ofType('original_transcript').filter((m) => m.message.is_final === true).length);
  });

  it('spec 001 errors: invalid_token, invalid_language, rate_limit_exceeded, internal_error', { timeout: 60_000 }, async () => {
    // A LiveKit URL nobody listens on, and a budget of 3 requests a minute.
    const other = await startTestServer({ rateLimitPerMin: 3, liveKit: { url: `ws://127.0.0.1:${await freePort()}`, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true } });
    try {
      const endpoint = `${other.url}/api/beta1/session`;
      const ok = { source_language: 'en-US', target_language: 'es-ES' };
      assert.deepEqual(await postJson(endpoint, ok, undefined), { status: 401, json: { error: { code: 'invalid_token', message: 'Invalid or expired API token' } } });
      assert.deepEqual(await postJson(endpoint, ok, 'ip_live_not-a-key'), { status: 401, json: { error: { code: 'invalid_token', message: 'Invalid or expired API token' } } });
      const bad = await postJson(endpoint, { source_language: 'en-US', target_language: 'xx-XX' }, other.apiKey);
      assert.equal(bad.status, 400);
      assert.equal((bad.json.error as { code: string }).code, 'invalid_language');
      assert.match((bad.json.error as { message: string }).message, /^Unsupported target language: xx-XX/);
      const missing = await postJson(endpoint, { target_language: 'es-ES' }, other.apiKey);
      assert.deepEqual(missing, { status: 400, json: { error: { code: 'invalid_language', message: 'source_language is required (e.g. "en-US")' } } });
      // LiveKit unreachable: the interpreter cannot join, and the session behind the room ends at once.
      assert.deepEqual(await postJson(endpoint, ok, other.apiKey), { status: 500, json: { error: { code: 'internal_error', message: 'An internal error occurred' } } });
      const left = await other.ctx.db.select().from(sessions).where(eq(sessions.sourceLang, 'en-US'));
      assert.equal(left.length, 1);
      assert.equal(left[0]?.status, 'completed', 'a session whose room got no interpreter is not left open');
      // Errors found before any route ran keep spec 001's shape under /api/beta1.
      const unknown = await fetch(`${other.url}/api/beta1/%E0%A4%A`, { method: 'POST' });
      assert.equal(unknown.status, 400);
      assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'invalid_request');
      const limited = await postJson(endpoint, ok, other.apiKey);
      assert.equal(limited.status, 429);
      assert.equal((limited.json.error as { code: string }).code, 'rate_limit_exceeded');
      assert.match((limited.json.error as { message: string }).message, /^Too many requests/);
    } finally {
      await other.close();
    }
    const unconfigured = await startTestServer({ liveKit: { url: 'ws://localhost:7880', apiKey: 'devkey', apiSecret: 'secret', configured: false } });
    try {
      const res = await postJson(`${unconfigured.url}/api/beta1/session`, { source_language: 'en-US', target_language: 'es-ES', voice_type: 'male' }, unconfigured.apiKey);
      assert.equal(res.status, 503);
      assert.equal((res.json.error as { code: string }).code, 'not_configured');
      assert.match((res.json.error as { message: string }).message, /LIVEKIT_URL/);
      const voice = await postJson(`${unconfigured.url}/api/beta1/session`, { source_language: 'en-US', target_language: 'es-ES', voice_type: 'robot' }, unconfigured.apiKey);
      assert.equal(voice.status, 400);
      assert.equal((voice.json.error as { code: string }).code, 'invalid_request');
    } finally {
      await unconfigured.close();
    }
  });
});

/** Polls the database until `count` rows are there (they are written behind the stream), at most 10 s. */
async function waitForRows<T>(query: () => Promise<T[]>, count: number): Promise<T[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await query();
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}
