import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Where `npm run build` in web/ writes the app: `<repo>/web/dist`. Resolved from this file, so it is
 * the same from src/api/web/routes.ts (tsx) and dist/api/web/routes.js (compiled).
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Client-side routes of the web app, each answered with index.html (see web/src/router.ts). */
export const WEB_APP_PATHS = ['/', '/conversation', '/join/:id', '/room', '/console', '/console/*'] as const;

/**
 * Headers for the app's HTML: only same-origin scripts, styles, fonts and sockets (nothing is
 * fetched from a CDN), QR codes drawn as data: images, the microphone for this origin only, and no
 * Referer, because a conversation's join URL is its only secret.
 */
const HTML_HEADERS = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",
    "media-src 'self' blob:",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'microphone=(self), camera=(), geolocation=()',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const;

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tolk — web app not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:560px;margin:12vh auto;padding:0 20px;color:#0f172a}
code{background:#f1f3f9;padding:2px 6px;border-radius:6px}</style></head>
<body><h1>The Tolk web app has not been built</h1>
<p>The server is running and its API works, but <code>web/dist</code> is missing.</p>
<p>Build it with <code>make start</code>, or with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then restart the server.</p>
</body></html>
`;

function sendNotBuilt(reply: FastifyReply): FastifyReply {
  return reply.code(503).header('cache-control', 'no-store').header('retry-after', '30').type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
}

/**
 * Serves the built web app (web/dist): hashed files under `/assets/` with a one-year immutable cache,
 * and index.html with no-cache and a strict Content-Security-Policy for `/`, `/conversation`,
 * `/join/:id`, `/room` and the console (`/console`, `/console/…`; docs/console.md). When web/dist has no index.html, those paths answer 503 with a page that
 * says how to build it; the API is unaffected. Only `/assets/*` and the app paths are claimed, so unknown
 * `/api/…` paths keep the API's own 404.
 *
 * Register it in its own scope: `app.register(async (scope) => webRoutes(scope, { root }))`.
 * @param options.root - absolute path of the built app, usually {@link DEFAULT_WEB_ROOT}.
 */
export async function webRoutes(app: FastifyInstance, options: { root: string }): Promise<void> {
  const root = path.resolve(options.root);
  const indexFile = path.join(root, 'index.html');
  const assetsDir = path.join(root, 'assets');
  const built = fs.existsSync(indexFile) && fs.existsSync(assetsDir);
  if (!built) app.log.warn({ root }, 'web app not built: / answers 503 until web/dist exists and the server restarts');

  if (built) {
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: '/assets/',
      index: false,
      list: false,
      dotfiles: 'ignore',
      maxAge: '365d',
      immutable: true,
    });
  }

  for (const url of WEB_APP_PATHS) {
    // Web pages, not API: left out of /api/openapi.json (docs/platform.md "OpenAPI").
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      if (!built || !fs.existsSync(indexFile)) return sendNotBuilt(reply);
      return reply.headers(HTML_HEADERS).sendFile('index.html', root, { cacheControl: false });
    });
  }
}
