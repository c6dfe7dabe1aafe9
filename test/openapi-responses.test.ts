import assert from 'node:assert/strict';
import { it } from 'node:test';
import { startCallsServer, type CallsTestServer } from './calls-support.js';
import { responseChecker, type ObservedResponse, type OpenApiDocument } from './openapi-validator.js';

/** One request of the tour: `route` is Fastify's pattern, `path` the URL asked. */
interface Step {
  method: string;
  route: string;
  path: string;
  status: number;
  body?: unknown;
  /** Sent as it is (a form, a raw webhook). */
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
  /** `false`: no Authorization header. */
  auth?: false | string;
}

async function ask(server: CallsTestServer, step: Step): Promise<ObservedResponse> {
  const headers: Record<string, string> = { ...(step.auth === false ? {} : { authorization: step.auth ?? `Bearer ${server.apiKey}` }), ...step.headers };
  let body: string | undefined;
  if (step.raw) {
    headers['content-type'] = step.raw.contentType;
    body = step.raw.text;
  } else if (step.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(step.body);
  }
  const res = await fetch(`${server.url}${step.path}`, { method: step.method, headers, body });
  const text = res.status === 204 ? '' : Buffer.from(await res.arrayBuffer()).toString('utf8');
  return { method: step.method, route: step.route, status: res.status, contentType: res.headers.get('content-type') ?? '', text };
}

/** Answers `steps` in order; each answer must have the step's status and match the document. */
async function tour(server: CallsTestServer, check: (r: ObservedResponse) => string[], steps: Step[]): Promise<ObservedResponse[]> {
  const answers: ObservedResponse[] = [];
  const problems: string[] = [];
  for (const step of steps) {
    const answer = await ask(server, step);
    answers.push(answer);
    if (answer.status !== step.status) problems.push(`${step.method} ${step.path}: expected ${step.status}, got ${answer.status} ${answer.text.slice(0, 300)}`);
    problems.push(...check(answer));
  }
  assert.deepEqual(problems, [], 'every answer is documented and matches its schema');
  return answers;
}

it('real answers of every surface match the response schemas of /api/openapi.json', async () => {
  const server = await startCallsServer();
  try {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as OpenApiDocument;
    const check = responseChecker(doc);
    const token = '/v2/sdk/voice-translation/session/token';
    await tour(server, check, [
      { method: 'GET', route: token, path: `${token}?expiration_ttl=60`, status: 200, auth: `api-key ${server.apiKey}` },
      { method: 'GET', route: token, path: `${token}?expiration_ttl=0`, status: 400, auth: `api-key ${server.apiKey}` },
      { method: 'GET', route: token, path: token, status: 401, auth: false },
      { method: 'POST', route: '/api/beta1/session', path: '/api/beta1/session', status: 400, body: { source_language: 'en-US' } },
      { method: 'POST', route: '/api/beta1/session', path: '/api/beta1/session', status: 401, body: {}, auth: false },
      { method: 'POST', route: '/api/beta1/session', path: '/api/beta1/session', status: 503, body: { source_language: 'en-US', target_language: 'es-ES' } },
      { method: 'POST', route: '/api/livekit/webhook', path: '/api/livekit/webhook', status: 404, raw: { contentType: 'application/webhook+json', text: '{"event":"room_started"}' }, auth: false },
      { method: 'POST', route: '/api/webhooks/stripe', path: '/api/webhooks/stripe', status: 501, body: { id: 'evt_1' }, auth: false },
      { method: 'POST', route: '/api/webhooks/vapi', path: '/api/webhooks/vapi', status: 501, body: { message: { type: 'status-update' } }, auth: false },
      { method: 'POST', route: '/twilio/status/:sessionId', path: '/twilio/status/sess_x', status: 503, raw: { contentType: 'application/x-www-form-urlencoded', text: 'CallSid=CA1&CallStatus=ringing' }, auth: false },
      { method: 'GET', route: '/metrics', path: '/metrics', status: 200, auth: false },
      { method: 'GET', route: '/api/health', path: '/api/health', status: 200, auth: false },
      { method: 'GET', route: '/api/api-keys', path: '/api/api-keys', status: 200 },
      { method: 'POST', route: '/api/glossary', path: '/api/glossary', status: 200, body: { source_term: 'copay', target_term: 'copago', language_pair: 'en-es' } },
      { method: 'POST', route: '/api/glossary', path: '/api/glossary', status: 400, body: { source_term: '' } },
      { method: 'GET', route: '/api/glossary', path: '/api/glossary', status: 401, auth: 'Bearer ip_live_nope' },
    ]);

    const [, , created] = await tour(server, check, [
      { method: 'GET', route: '/api/v1/languages', path: '/api/v1/languages', status: 200, auth: false },
      { method: 'POST', route: '/api/v1/session/create', path: '/api/v1/session/create', status: 400, body: { language: 'en' }, auth: false },
      { method: 'POST', route: '/api/v1/session/create', path: '/api/v1/session/create', status: 200, body: { language: 'en', translate_language: 'es' }, auth: false },
      { method: 'GET', route: '/api/v1/session/:conversation_id', path: '/api/v1/session/nope', status: 404, auth: false },
      { method: 'POST', route: '/api/v1/sign-in', path: '/api/v1/sign-in', status: 204, body: { key: server.apiKey }, auth: false },
      { method: 'POST', route: '/api/v1/sign-in', path: '/api/v1/sign-in', status: 401, body: { key: 'ip_live_nope' }, auth: false },
      { method: 'POST', route: '/api/v1/sign-out', path: '/api/v1/sign-out', status: 204, auth: false },
    ]);
    const conversationId = (JSON.parse(created?.text ?? '{}') as { conversation_id?: string }).conversation_id ?? '';
    await tour(server, check, [{ method: 'GET', route: '/api/v1/session/:conversation_id', path: `/api/v1/session/${conversationId}`, status: 200, auth: false }]);

    const [session] = await tour(server, check, [
      { method: 'POST', route: '/v1/sessions', path: '/v1/sessions', status: 201, body: { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', metadata: { ticket: 't1' } }, headers: { 'idempotency-key': 'openapi-1' } },
      { method: 'POST', route: '/v1/sessions', path: '/v1/sessions', status: 400, body: { mode: 'bidirectional_translation' } },
      { method: 'POST', route: '/v1/sessions', path: '/v1/sessions', status: 401, body: {}, auth: 'Bearer ip_live_nope' },
      { method: 'GET', route: '/v1/sessions/:id', path: '/v1/sessions/sess_nope', status: 404 },
    ]);
    const id = (JSON.parse(session?.text ?? '{}') as { id?: string }).id ?? '';
    await tour(server, check, [
      { method: 'GET', route: '/v1/sessions/:id', path: `/v1/sessions/${id}`, status: 200 },
      { method: 'GET', route: '/v1/sessions/:id/transcript', path: `/v1/sessions/${id}/transcript`, status: 200 },
      { method: 'GET', route: '/v1/sessions/:id/transcript', path: `/v1/sessions/${id}/transcript?format=text`, status: 200 },
      { method: 'GET', route: '/v1/sessions/:id/recordings', path: `/v1/sessions/${id}/recordings`, status: 200 },
      { method: 'GET', route: '/v1/sessions', path: '/v1/sessions?limit=5', status: 200 },
      { method: 'GET', route: '/v1/sessions', path: '/v1/sessions?status=done', status: 400 },
      { method: 'POST', route: '/v1/sessions/:id/end', path: `/v1/sessions/${id}/end`, status: 400, body: { reason: 'bored' } },
      { method: 'POST', route: '/v1/sessions/:id/end', path: `/v1/sessions/${id}/end`, status: 200, body: { reason: 'completed' } },
      { method: 'GET', route: '/v1/sessions/:id', path: `/v1/sessions/${id}`, status: 200 },
      { method: 'GET', route: '/v1/recordings/:id', path: '/v1/recordings/rec_nope', status: 404 },
      { method: 'GET', route: '/v1/webhook_endpoints', path: '/v1/webhook_endpoints', status: 200 },
      { method: 'POST', route: '/v1/webhook_endpoints', path: '/v1/webhook_endpoints', status: 200, body: { url: null, roll_secret: true } },
      { method: 'POST', route: '/v1/webhook_endpoints', path: '/v1/webhook_endpoints', status: 400, body: { url: 'ftp://example.invalid/' } },
      { method: 'GET', route: '/v1/webhook_events', path: `/v1/webhook_events?session_id=${id}`, status: 200 },
      { method: 'GET', route: '/v1/webhook_events', path: '/v1/webhook_events?limit=0', status: 400 },
    ]);
  } finally {
    await server.close();
  }
});

it('the checker refuses an answer that differs from the document', () => {
  const check = responseChecker({
    paths: { '/v1/x/{id}': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } } } }, 204: {} } } } },
  });
  const answer = (status: number, text: string, contentType = 'application/json'): ObservedResponse => ({ method: 'GET', route: '/v1/x/:id', status, contentType, text });
  assert.deepEqual(check(answer(200, '{"id":"a"}')), []);
  assert.match(check(answer(200, '{"id":"a","extra":1}'))[0] ?? '', /must NOT have additional properties/);
  assert.match(check(answer(200, '{"id":1}'))[0] ?? '', /must be string/);
  assert.match(check(answer(404, '{}'))[0] ?? '', /status not documented/);
  assert.match(check(answer(200, 'id', 'text/plain'))[0] ?? '', /content type text\/plain not documented/);
  assert.match(check(answer(204, 'x'))[0] ?? '', /documented without a body/);
});
