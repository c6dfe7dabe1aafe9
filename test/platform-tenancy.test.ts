import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createApiKey } from '../src/domain/api-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One organization's resources, made through the API with its own key. */
interface Tenant {
  key: string;
  organizationId: string;
  apiKeyId: string;
  glossaryId: string;
  sessionId: string;
  participantId: string;
}

/** Every id-bearing platform route, filled in with some tenant's ids (or a random id). */
const ROUTES: ReadonlyArray<{ method: Method; path: (ids: Ids) => string; body?: object }> = [
  { method: 'POST', path: (i) => `/api/api-keys/${i.apiKeyId}/rotate` },
  { method: 'DELETE', path: (i) => `/api/api-keys/${i.apiKeyId}` },
  { method: 'PATCH', path: (i) => `/api/glossary/${i.glossaryId}`, body: { target_term: 'filtrado' } },
  { method: 'DELETE', path: (i) => `/api/glossary/${i.glossaryId}` },
  { method: 'GET', path: (i) => `/api/sessions/${i.sessionId}/intelligence` },
  { method: 'POST', path: (i) => `/api/sessions/${i.sessionId}/escalate`, body: { reason: 'cross-tenant probe' } },
  { method: 'POST', path: (i) => `/api/sessions/${i.sessionId}/revoke/${i.participantId}` },
];

interface Ids {
  apiKeyId: string;
  glossaryId: string;
  sessionId: string;
  participantId: string;
}

describe('platform: tenant isolation (property-based)', () => {
  let server: Server;
  let a: Tenant;
  let b: Tenant;

  async function call(key: string, method: Method, url: string, body?: object) {
    return server.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });
  }

  async function makeTenant(org: string): Promise<Tenant> {
    const owner = await createApiKey(server.ctx.db, { organizationName: org, name: 'owner', role: 'owner' });
    const key = owner.key;
    const made = (await call(key, 'POST', '/api/api-keys', { name: `${org} integration` })).json<{ id: string }>();
    const term = await call(key, 'POST', '/api/glossary', { source_term: 'myocardial', target_term: `miocardial-${org}`, language_pair: 'en-es' });
    assert.equal(term.statusCode, 200, term.body);
    const session = await call(key, 'POST', '/api/sessions', { source_lang: 'en', target_lang: 'es', speaker_name: org });
    assert.equal(session.statusCode, 200, session.body);
    const s = session.json<{ sessionId: string; participantId: string }>();
    return {
      key, organizationId: owner.organizationId, apiKeyId: made.id, glossaryId: term.json<{ id: string }>().id,
      sessionId: s.sessionId, participantId: s.participantId,
    };
  }

  /** What B's data looks like to B: must be the same before and after A's probing. */
  async function snapshot(t: Tenant): Promise<string> {
    const keys = (await call(t.key, 'GET', '/api/api-keys')).json<{ keys: Array<{ id: string; name: string }> }>().keys.map((k) => `${k.id}:${k.name}`).sort();
    const terms = (await call(t.key, 'GET', '/api/glossary')).json<{ terms: unknown[] }>().terms;
    const sessions = (await call(t.key, 'GET', '/api/sessions')).json<{ sessions: Array<{ id: string; status: string }> }>().sessions;
    return JSON.stringify({ keys, terms, sessions });
  }

  before(async () => {
    server = await startTestServer({ rateLimitPerMin: 100_000 });
    a = await makeTenant('clinic-a');
    b = await makeTenant('clinic-b');
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('answers 404 to every id-bearing route called with another organization\'s ids, and changes nothing', async () => {
    const before = await snapshot(b);
    const randomId = fc.stringMatching(/^[a-z]{3,5}_[0-9A-Za-z]{1,24}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        // Each id is B's real one or a random one: every mix must be refused without a trace.
        fc.record({
          apiKeyId: fc.oneof(fc.constant(b.apiKeyId), randomId),
          glossaryId: fc.oneof(fc.constant(b.glossaryId), randomId),
          sessionId: fc.oneof(fc.constant(b.sessionId), randomId),
          participantId: fc.oneof(fc.constant(b.participantId), fc.constant(a.participantId), randomId),
        }),
        async (route, ids) => {
          const res = await call(a.key, route.method, route.path(ids), route.body);
          assert.equal(res.statusCode, 404, `${route.method} ${route.path(ids)} → ${res.statusCode} ${res.body}`);
          assert.equal(res.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
          for (const secret of [b.organizationId, 'miocardial-clinic-b', 'clinic-b integration']) {
            assert.ok(!res.body.includes(secret), `${route.method} ${route.path(ids)} leaked ${secret}`);
          }
        },
      ),
      { numRuns: 120 },
    );
    assert.equal(await snapshot(b), before, 'organization B\'s data changed');
    // B's escalation queue was not touched by A's probes: B's first escalation is first in line.
    const esc = await call(b.key, 'POST', `/api/sessions/${b.sessionId}/escalate`, { reason: 'interpreter needed' });
    assert.equal(esc.statusCode, 200, esc.body);
    assert.equal(esc.json<{ queuePosition: number }>().queuePosition, 1);
  });

  it('never lists another organization\'s keys, terms or sessions, and refuses its organization_id', async () => {
    const lists = await Promise.all(['/api/api-keys', '/api/glossary', '/api/sessions', '/api/sessions/active'].map((u) => call(a.key, 'GET', u)));
    for (const res of lists) {
      assert.equal(res.statusCode, 200);
      for (const id of [b.apiKeyId, b.glossaryId, b.sessionId, b.organizationId]) assert.ok(!res.body.includes(id), `${res.body} includes ${id}`);
    }
    const foreign = await call(a.key, 'POST', '/api/sessions', { source_lang: 'en', target_lang: 'es', organization_id: b.organizationId });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
    // A's own resources still answer A: the 404s above were about ownership, not broken routes.
    const own = await call(a.key, 'PATCH', `/api/glossary/${a.glossaryId}`, { target_term: 'miocárdico' });
    assert.equal(own.statusCode, 200, own.body);
  });
});
