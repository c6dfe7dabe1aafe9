import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { testEngines } from './helpers.js';

/**
 * Routes left out of /api/openapi.json on purpose: the docs UI's own pages and assets, the document
 * itself, the web app's pages and static files (HTML, not API), and the WebSocket upgrade routes
 * (OpenAPI 3 cannot describe a message protocol; @fastify/websocket hides them; their protocols are in
 * docs/; docs/platform.md "OpenAPI").
 */
const EXCLUDED = [/^\/api\/docs(\/|$)/, /^\/api\/openapi\.json$/, /^\/$/, /^\/join\//, /^\/room$/, /^\/conversation$/, /^\/assets\//];
const WEBSOCKET_ROUTES = ['/vt', '/api/v1/ws/single', '/api/v1/ws/:conversation_id', '/v1/sessions/:id/connect', '/twilio/phone/:callRef/media/:token', '/twilio/media/:sessionId'];

/** Fastify's `:param` and `*` → OpenAPI's `{param}` (as @fastify/swagger writes them). */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
}

it('/api/openapi.json lists every HTTP route of every surface, with the zod schemas that validate them', async () => {
  const routes: { method: string; url: string }[] = [];
  const onInit = (message: unknown): void => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' }), { engines: await testEngines() })
    .finally(() => diagnostics.unsubscribe('fastify.initialization', onInit));
  try {
    const res = await fetch(`${server.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const listed = routes.filter((r) => r.method !== 'HEAD' && !EXCLUDED.some((re) => re.test(r.url)) && !WEBSOCKET_ROUTES.includes(r.url));
    assert.ok(listed.length > 40, `routes seen: ${listed.length}`);
    const missing = listed.filter((r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], 'every route is in the document');
    for (const expected of ['GET /v2/sdk/voice-translation/session/token', 'POST /api/beta1/session', 'GET /api/v1/languages', 'POST /v1/sessions', 'GET /metrics']) {
      const [method = '', url = ''] = expected.split(' ');
      assert.ok(doc.paths[openApiPath(url)]?.[method.toLowerCase()], `${expected} is documented`);
    }

    const bodyOf = (url: string): { properties?: Record<string, unknown>; required?: string[] } => {
      const op = doc.paths[url]?.post as { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown>; required?: string[] } }> } } | undefined;
      return op?.requestBody?.content?.['application/json']?.schema ?? {};
    };
    assert.ok(bodyOf('/v1/sessions').properties?.mode, 'POST /v1/sessions documents its mode');
    assert.deepEqual(bodyOf('/api/v1/session/create').required?.sort(), ['language', 'translate_language']);
    const createCall = doc.paths['/v1/sessions']?.post as { responses?: Record<string, unknown> };
    assert.ok(createCall.responses?.['400'], 'POST /v1/sessions documents its 400');
  } finally {
    await server.close();
  }
});
