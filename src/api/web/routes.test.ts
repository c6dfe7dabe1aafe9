import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_WEB_ROOT, webRoutes } from './routes.js';

/** A fake web/dist: index.html and one hashed asset. */
function fakeDist(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-web-'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Tolk</title><div id="app"></div>');
  fs.writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log("tolk")');
  return root;
}

async function appWith(root: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(async (scope) => webRoutes(scope, { root }));
  // An API route and the API's own 404 handler, as the platform surface has them.
  await app.register(
    async (api) => {
      api.get('/v1/languages', async () => ({ ok: true }));
      api.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'api not found' }));
    },
    { prefix: '/api' },
  );
  await app.ready();
  return app;
}

describe('webRoutes with a built app', () => {
  let root: string;
  let app: FastifyInstance;
  before(async () => {
    root = fakeDist();
    app = await appWith(root);
  });
  after(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  for (const url of ['/', '/conversation', '/conversation?id=abc&lang=en-US', '/join/Zx9_abc-DEF', '/room', '/console', '/console/glossary']) {
    it(`answers ${url} with index.html, no-cache and a same-origin CSP`, async () => {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /<div id="app">/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    });
  }

  it('serves hashed assets with a long immutable cache', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'console.log("tolk")');
    assert.match(String(res.headers['cache-control']), /max-age=31536000/);
    assert.match(String(res.headers['cache-control']), /immutable/);
  });

  it('does not serve files outside assets/', async () => {
    const traversal = await app.inject({ method: 'GET', url: '/assets/%2e%2e/index.html' });
    assert.notEqual(traversal.statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode, 404);
  });

  it('leaves /api to the API: its routes and its own 404', async () => {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/languages' })).json(), { ok: true });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'api not found' });
  });
});

describe('webRoutes without a built app', () => {
  it('answers the app paths with a 503 page that says how to build it, and keeps the API', async () => {
    const root = path.join(os.tmpdir(), `tolk-web-missing-${process.pid}`);
    const app = await appWith(root);
    try {
      for (const url of ['/', '/conversation', '/join/abc']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 503);
        assert.match(String(res.headers['content-type']), /^text\/html/);
        assert.match(res.body, /has not been built/);
        assert.match(res.body, /npm run build/);
      }
      assert.equal((await app.inject({ method: 'GET', url: '/assets/index.js' })).statusCode, 404);
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/languages' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('points DEFAULT_WEB_ROOT at web/dist of the repository', () => {
    assert.equal(path.relative(process.cwd(), DEFAULT_WEB_ROOT).replace(/\\/g, '/').replace(/\/$/, ''), 'web/dist');
  });
});
