import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { closeTestEngines, testEngines } from './helpers.js';
import { openApiPath, type OpenApiDocument } from './openapi-validator.js';
import { WEB_APP_PATHS } from '../src/api/web/routes.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

/**
 * Routes left out of /api/openapi.json on purpose: the docs UI's own pages and assets, the document
 * itself, the web app's pages and static files (HTML, not API), and the WebSocket upgrade routes
 * (OpenAPI 3 cannot describe a message protocol; @fastify/websocket hides them; their protocols are in
 * docs/; docs/platform.md "OpenAPI").
 */
// The docs UI, the document itself, the web app's static files and its pages (WEB_APP_PATHS: web pages, not API).
const EXCLUDED = [/^\/api\/docs(\/|$)/, /^\/api\/openapi\.json$/, /^\/assets\//];
const WEBSOCKET_ROUTES = ['/vt', '/api/v1/ws/single', '/api/v1/ws/:conversation_id', '/v1/sessions/:id/connect', '/twilio/phone/:callRef/media/:token', '/twilio/media/:sessionId'];

/** Routes that take no request body although their method could carry one (the path says it all). */
const NO_BODY = ['POST /api/api-keys/{id}/rotate', 'POST /api/sessions/{id}/revoke/{participantId}', 'POST /api/v1/sign-out'];

/**
 * What is missing from one operation: a request body schema (POST, PUT and PATCH but {@link NO_BODY}),
 * or a 2xx response with a schema of its body (204 has none, by definition).
 */
function gaps(method: string, path: string, op: OpenApiDocument['paths'][string][string]): string[] {
  const out: string[] = [];
  const name = `${method.toUpperCase()} ${path}`;
  const bodies = Object.values(op.requestBody?.content ?? {});
  if (['post', 'put', 'patch'].includes(method) && !NO_BODY.includes(name) && (bodies.length === 0 || bodies.some((b) => b.schema === undefined))) {
    out.push(`${name}: no request body schema`);
  }
  const success = Object.entries(op.responses ?? {}).filter(([status]) => /^2(\d\d|XX)$/.test(status));
  const described = success.filter(([status, r]) => status === '204' ? r.content === undefined : Object.values(r.content ?? {}).some((c) => c.schema !== undefined));
  if (success.length === 0 || described.length !== success.length) out.push(`${name}: no 2xx response schema (${success.map(([s]) => s).join(', ') || 'none'})`);
  return out;
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
    const doc = (await res.json()) as OpenApiDocument;
    const listed = routes.filter((r) => r.method !== 'HEAD' && !EXCLUDED.some((re) => re.test(r.url)) && !(WEB_APP_PATHS as readonly string[]).includes(r.url) && !WEBSOCKET_ROUTES.includes(r.url));
    assert.ok(listed.length > 40, `routes seen: ${listed.length}`);
    const missing = listed.filter((r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], 'every route is in the document');
    for (const expected of ['GET /v2/sdk/voice-translation/session/token', 'POST /api/beta1/session', 'GET /api/v1/languages', 'POST /v1/sessions', 'GET /metrics']) {
      const [method = '', url = ''] = expected.split(' ');
      assert.ok(doc.paths[openApiPath(url)]?.[method.toLowerCase()], `${expected} is documented`);
    }

    const incomplete = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).flatMap(([method, op]) => gaps(method, path, op)));
    assert.deepEqual(incomplete, [], 'every operation documents its request body and its 2xx response');
    const web = ['/', '/join/{id}', '/room', '/conversation'].filter((path) => doc.paths[path] !== undefined);
    assert.deepEqual(web, [], 'the web app\'s pages are not API operations');

    const bodyOf = (url: string): { properties?: Record<string, unknown>; required?: string[] } => {
      const op = doc.paths[url]?.post;
      return (op?.requestBody?.content?.['application/json']?.schema ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
    };
    assert.ok(bodyOf('/v1/sessions').properties?.mode, 'POST /v1/sessions documents its mode');
    assert.deepEqual(bodyOf('/api/v1/session/create').required?.sort(), ['language', 'translate_language']);
    const createCall = doc.paths['/v1/sessions']?.post as { responses?: Record<string, unknown>; callbacks?: Record<string, unknown> };
    assert.ok(createCall.responses?.['400'], 'POST /v1/sessions documents its 400');
    assert.ok(createCall.callbacks?.sessionEvents, 'POST /v1/sessions documents the webhooks Tolk sends (callbacks)');
    assert.ok(doc.paths['/twilio/status/{sessionId}']?.post?.requestBody?.content?.['application/x-www-form-urlencoded'], 'Twilio posts forms');
    assert.ok(doc.paths['/v1/recordings/{id}/audio']?.get?.responses?.['200']?.content?.['audio/wav'], 'recordings are WAV');
    const endBody = doc.paths['/v1/sessions/{id}/end']?.post?.requestBody as { required?: boolean } | undefined;
    assert.equal(endBody?.required, false, 'ending a session may send no body');
    assert.equal((doc.paths['/api/v1/sign-in']?.post?.requestBody as { required?: boolean } | undefined)?.required, true);
  } finally {
    await server.close();
  }
});
