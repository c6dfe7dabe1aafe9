/**
 * `GET /api/sessions/:id` and `GET /api/sessions/:id/transcript` (docs/sessions.md "One session",
 * "Transcript"): the session with its participants, and its final transcripts in spoken order with
 * translation and latency; another organization's session is 404 like an unknown one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sessionParticipants, sessions, utterances } from '../src/db/schema.js';
import { authenticateApiKey, createApiKey, newId } from '../src/domain/api-keys.js';
import { startTestServer } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const STARTED_AT = new Date('2026-04-11T14:00:00Z');
const ENDED_AT = new Date('2026-04-11T14:02:05Z');

describe('GET /api/sessions/:id and /transcript', () => {
  let server: Server;
  let organizationId: string;
  let sessionId: string;
  const get = (url: string, key: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    server = await startTestServer();
    const principal = await authenticateApiKey(server.ctx.db, server.apiKey);
    assert.ok(principal);
    organizationId = principal.organizationId;
    sessionId = newId('sess');
    await server.ctx.db.insert(sessions).values({
      id: sessionId, organizationId, sourceLang: 'en', targetLang: 'es', speakerName: 'Doctor', status: 'completed', roomName: `room-${sessionId}`,
      startedAt: STARTED_AT, endedAt: ENDED_AT,
    });
    await server.ctx.db.insert(sessionParticipants).values([
      { sessionId, userId: 'usr_a', role: 'owner', speakerName: 'Doctor', joinedAt: STARTED_AT },
      { sessionId, userId: 'usr_b', role: 'member', speakerName: 'Patient', revokedAt: ENDED_AT },
    ]);
    const row = (i: number, text: string, translation: string | null, translationLatencyMs: number | null) => ({
      id: `utt_${i}`, sessionId, organizationId, participantId: 'usr_a', speakerName: 'Doctor', sourceLang: 'en', targetLang: 'es', text, translation,
      confidence: null, startedAt: new Date(STARTED_AT.getTime() + i * 1000), durationMs: 900 + i, finalLatencyMs: 100 + i, translationLatencyMs, firstAudioLatencyMs: null,
    });
    // Inserted out of order: the route sorts by start time. The blank final is left out.
    await server.ctx.db.insert(utterances).values([row(2, 'see you friday', 'nos vemos el viernes', 333), row(1, 'good morning', 'buenos días', 250), row(3, '', null, null)]);
  });

  after(async () => server.close());

  it('returns the session with every participant, revoked ones marked', async () => {
    const res = await get(`/api/sessions/${sessionId}`, server.apiKey);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Record<string, unknown>>();
    assert.equal(typeof body.created_at, 'string');
    assert.deepEqual({ ...body, created_at: 'x' }, {
      id: sessionId, status: 'completed', source_lang: 'en', target_lang: 'es', created_at: 'x',
      started_at: STARTED_AT.toISOString(), ended_at: ENDED_AT.toISOString(), duration_seconds: 125,
      participants: [
        { user_id: 'usr_a', role: 'owner', speaker_name: 'Doctor', joined_at: STARTED_AT.toISOString(), revoked_at: null },
        { user_id: 'usr_b', role: 'member', speaker_name: 'Patient', joined_at: null, revoked_at: ENDED_AT.toISOString() },
      ],
    });
  });

  it('returns the transcript in spoken order with translation and latency', async () => {
    const res = await get(`/api/sessions/${sessionId}/transcript`, server.apiKey);
    assert.equal(res.statusCode, 200, res.body);
    const base = { participant_id: 'usr_a', speaker_name: 'Doctor', source_lang: 'en', target_lang: 'es', confidence: null, first_audio_latency_ms: null };
    assert.deepEqual(res.json(), {
      session_id: sessionId,
      utterances: [
        { ...base, id: 'utt_1', text: 'good morning', translation: 'buenos días', started_at: new Date(STARTED_AT.getTime() + 1000).toISOString(), duration_ms: 901, final_latency_ms: 101, translation_latency_ms: 250 },
        { ...base, id: 'utt_2', text: 'see you friday', translation: 'nos vemos el viernes', started_at: new Date(STARTED_AT.getTime() + 2000).toISOString(), duration_ms: 902, final_latency_ms: 102, translation_latency_ms: 333 },
      ],
    });
  });

  it('answers 404 for an unknown session and for another organization\'s, 401 without a key', async () => {
    const other = await createApiKey(server.ctx.db, { organizationName: `other-${newId('org')}`, name: 'other', role: 'owner' });
    for (const url of [`/api/sessions/${sessionId}`, `/api/sessions/${sessionId}/transcript`]) {
      const foreign = await get(url, other.key);
      assert.equal(foreign.statusCode, 404, foreign.body);
      assert.deepEqual(foreign.json(), { error: { code: 'NOT_FOUND', message: `Session ${sessionId} not found` } });
    }
    const unknown = await get('/api/sessions/sess_nope/transcript', server.apiKey);
    assert.equal(unknown.statusCode, 404);
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}` })).statusCode, 401);
  });
});
