import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { conversationRoutes } from './api/conversations/index.js';
import { startHeartbeat } from './transports/heartbeat.js';
import { platformRoutes } from './api/platform/index.js';
import { DEFAULT_WEB_ROOT, webRoutes } from './api/web/routes.js';
import { streamRoutes } from './api/stream/routes.js';
import { handleClientError, handleFrameworkError } from './api/http-errors.js';
import { loggerOptions, type LogStream } from './logging.js';
import { PLATFORM_ROUTE_PLUGINS } from './api/platform/routes.js';
import { roomSessionRoutes } from './api/rooms/session.js';
import { liveKitWebhookRoutes } from './api/rooms/livekit-webhook.js';
import { callsRoutes } from './api/calls/index.js';
import { callStreamRoute } from './api/calls/stream-route.js';
import type { CallsContext, CallsService } from './gateway/calls/calls-service.js';
import type { TolkConfig } from './config.js';
import { twilioRoutes } from './api/telephony/twilio.js';
import { registerOpenApi } from './api/openapi.js';

/** On shutdown, how long a WebSocket client has to answer the 1001 close frame before it is cut, in ms. */
const CLOSE_GRACE_MS = 2000;
/** How long one plugin may take to register before start-up fails, in ms (Fastify's default: 10 s). */
const PLUGIN_TIMEOUT_MS = 120_000;

/**
 * JSON bodies as Fastify parses them (prototype-poisoning guard included), except that an empty
 * body is `{}`: many HTTP clients send `Content-Type: application/json` on every request, also on
 * routes that take no body (`DELETE /api/api-keys/:id`, `POST /api/sessions/:id/escalate`…), and
 * such a request is not malformed (docs/decisions.md).
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    parseJson(request, text, done);
  });
}

/**
 * The Fastify instance of a process, with no surface yet: its logger (the services the composition
 * root builds log through it), body parsers and error handlers. Credentials are redacted from the
 * log ({@link loggerOptions}); errors of the router and of Node's HTTP parser answer in the shape of
 * the URL's surface (`src/api/http-errors.ts`).
 * @param options.logStream - where log lines go instead of stdout (tests capture them).
 */
export function createHttpApp(config: TolkConfig, options: { logStream?: LogStream } = {}): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream),
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
    // A loaded machine (engines loading beside) can take longer than Fastify's 10 s to register a plugin.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    // X-Forwarded-Proto/-Host/-For only from the proxies TOLK_TRUST_PROXY names (docs/deploy.md "TLS").
    trustProxy: config.trustProxy,
  });
  acceptEmptyJsonBodies(app);
  return app;
}

/**
 * Mounts every surface on `app` (from {@link createHttpApp}), without listening (tests use
 * `inject()` or `listen({ port: 0 })`): it wires the services the composition root built
 * (`src/server.ts`) to their routes and creates none. Closing the app ends every live stream and
 * stops the calls runtime; the calls runtime starts when the app is ready.
 */
export async function mountSurfaces(app: FastifyInstance, ctx: CallsContext & { callSessions: CallsService }): Promise<void> {
  // Before every surface: swagger only sees routes registered after it (src/api/openapi.ts).
  await registerOpenApi(app);
  // Frames above maxFrameBytes are answered with the documented error event; ws itself only drops
  // frames far beyond it.
  await app.register(fastifyWebsocket, {
    options: { maxPayload: ctx.config.maxFrameBytes * 4 },
    // On close (SIGTERM): the listener is already closed; live streams finish their utterance in
    // flight (bounded by drainTimeoutMs), then every socket left is closed with 1001.
    preClose: async function drain(this: FastifyInstance) {
      await Promise.all([...ctx.activeStreams].map((s) => (s.drain ? s.drain(ctx.config.drainTimeoutMs) : s.shutdown())));
      for (const client of this.websocketServer.clients) client.close(1001, 'Server shutting down');
      // A client that never answers the close frame is cut after CLOSE_GRACE_MS, not ws's 30 s.
      const cut = setTimeout(() => {
        for (const client of this.websocketServer.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()));
      clearTimeout(cut);
    },
  });
  const stopHeartbeat = startHeartbeat(app.websocketServer, ctx.config.streamLimits.pingIntervalMs);
  app.addHook('onClose', async () => {
    stopHeartbeat();
    await Promise.all([...ctx.activeStreams].map((s) => s.shutdown()));
  });
  await app.register(async (scope) => streamRoutes(scope, ctx));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    return reply.type(contentType).send(body);
  });
  await app.register(async (scope) => roomSessionRoutes(scope, ctx));
  await app.register(async (scope) => liveKitWebhookRoutes(scope, ctx));
  await app.register(async (scope) => platformRoutes(scope, ctx, PLATFORM_ROUTE_PLUGINS), { prefix: '/api' });
  await app.register(async (scope) => conversationRoutes(scope, ctx));
  const calls = ctx.callSessions;
  app.addHook('onReady', () => calls.start());
  app.addHook('onClose', () => calls.close());
  await app.register(async (scope) => callsRoutes(scope, ctx), { prefix: '/v1' });
  await app.register(async (scope) => callStreamRoute(scope, ctx));
  await app.register(async (scope) => twilioRoutes(scope, ctx));
  await app.register(async (scope) => webRoutes(scope, { root: DEFAULT_WEB_ROOT }));
}
