import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sessions, utterances } from '../src/db/schema.js';
import { authenticateApiKey, createApiKey, newId } from '../src/domain/api-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const STARTED_AT = new Date('2026-04-11T14:00:00Z');
const ENDED_AT = new Date('2026-04-11T14:22:00Z');

/** Inserts a session of `organizationId` directly, as the session routes and the pipeline would leave it. */
async function insertSession(server: Server, organizationId: string, status: 'created' | 'active' | 'completed'): Promise<string> {
  const id = newId('sess');
  await server.ctx.db.insert(sessions).values({
    id, organizationId, sourceLang: 'en', targetLang: 'es', speakerName: 'Doctor', status, roomName: `room-${id}`,
    startedAt: status === 'created' ? null : STARTED_AT, endedAt: status === 'completed' ? ENDED_AT : null,
  });
  return id;
}

/** Inserts final transcripts in spoken order, one second apart. */
async function insertUtterances(
  server: Server, sessionId: string, organizationId: string,
  rows: Array<{ participantId: string; text: string; confidence: number | null; translationLatencyMs: number | null }>,
): Promise<void> {
  await server.ctx.db.insert(utterances).values(rows.map((row, i) => ({
    id: newId('utt'), sessionId, organizationId, participantId: row.participantId, speakerName: row.participantId,
    sourceLang: 'en', targetLang: 'es', text: row.text, translation: `(es) ${row.text}`, confidence: row.confidence,
    startedAt: new Date(STARTED_AT.getTime() + i * 1000), durationMs: 900, finalLatencyMs: 120,
    translationLatencyMs: row.translationLatencyMs, firstAudioLatencyMs: 400,
  })));
}

describe('GET /api/sessions/:id/intelligence', () => {
  let server: Server;
  let organizationId: string;
  let auth: { authorization: string };

  before(async () => {
    server = await startTestServer();
    auth = { authorization: `Bearer ${server.apiKey}` };
    const principal = await authenticateApiKey(server.ctx.db, server.apiKey);
    assert.ok(principal);
    organizationId = principal.organizationId;
  });

  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('returns the intelligence of a completed session', async () => {
    const id = await insertSession(server, organizationId, 'completed');
    await insertUtterances(server, id, organizationId, [
      { participantId: 'doctor', text: 'Good morning, what brings you in today?', confidence: null, translationLatencyMs: 300 },
      { participantId: 'patient', text: 'I have had a terrible headache for three days and I feel awful.', confidence: null, translationLatencyMs: 420 },
      { participantId: 'patient', text: 'Now I have severe pain.', confidence: null, translationLatencyMs: null },
      { participantId: 'doctor', text: 'Please take the medication twice a day.', confidence: null, translationLatencyMs: 350 },
      { participantId: 'doctor', text: 'We need to schedule a follow-up by Friday.', confidence: null, translationLatencyMs: 291 },
      { participantId: 'patient', text: '', confidence: null, translationLatencyMs: null },
    ]);
    const res = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence`, headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      overallSentiment: 'negative',
      sentimentScore: -0.38, // AFINN: good +3, terrible −3, headache −2, awful −3, severe −2, pain −2, please +1 = −8 over 40 words; tanh(2 × −0.2)
      extractedTopics: ['morning', 'headache', 'pain', 'medication', 'friday'],
      actionItems: ['Please take the medication twice a day.', 'We need to schedule a follow-up by Friday.'],
      urgencyLevel: 'urgent',
      transcriptCount: 5,
      speakerCount: 2,
      averageConfidence: 0, // no transcript carries one
      averageLatencyMs: 340, // (300 + 420 + 350 + 291) / 4 = 340.25
      durationSeconds: 1320,
      phoneCalls: [], // none placed (docs/phone.md)
    });
  });

  it('averages the confidences the recognizer gave, to 2 decimals', async () => {
    const id = await insertSession(server, organizationId, 'completed');
    await insertUtterances(server, id, organizationId, [
      { participantId: 'a', text: 'Thank you, the results are excellent.', confidence: 0.9, translationLatencyMs: 250 },
      { participantId: 'a', text: 'That is wonderful news.', confidence: 0.75, translationLatencyMs: null },
      { participantId: 'b', text: 'Great, thanks.', confidence: null, translationLatencyMs: null },
    ]);
    const res = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence`, headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Record<string, unknown>>();
    assert.equal(body.overallSentiment, 'positive');
    assert.equal(body.averageConfidence, 0.83); // (0.9 + 0.75) / 2 = 0.825, stored as float4
    assert.equal(body.averageLatencyMs, 250);
    assert.equal(body.urgencyLevel, 'standard');
    assert.deepEqual(body.actionItems, []);
  });

  it('is 401 without an API key', async () => {
    const id = await insertSession(server, organizationId, 'completed');
    const res = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence` });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED');
  });

  it('is 404 for an unknown session', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/sessions/sess_unknown/intelligence', headers: auth });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 'NOT_FOUND', message: 'Session sess_unknown not found' } });
  });

  it("is 404 for another organization's session, exactly as for an unknown one", async () => {
    const other = await createApiKey(server.ctx.db, { organizationName: 'other', role: 'owner' });
    const id = await insertSession(server, other.organizationId, 'completed');
    const res = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence`, headers: auth });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 'NOT_FOUND', message: `Session ${id} not found` } });
    const own = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence`, headers: { authorization: `Bearer ${other.key}` } });
    assert.equal(own.statusCode, 200, own.body);
  });

  it('is 409 while the session is still active', async () => {
    const id = await insertSession(server, organizationId, 'active');
    const res = await server.app.inject({ method: 'GET', url: `/api/sessions/${id}/intelligence`, headers: auth });
    assert.equal(res.statusCode, 409);
    assert.deepEqual(res.json(), {
      error: { code: 'CONFLICT', message: `Session ${id} is active: intelligence is available once the session is completed` },
    });
  });

  it('is documented in the OpenAPI document under the sessions tag', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const operation = res.json<{ paths: Record<string, { get?: { tags?: string[] } }> }>().paths['/api/sessions/{id}/intelligence']?.get;
    assert.deepEqual(operation?.tags, ['sessions']);
  });
});
