import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { conversationRoutes } from './api/conversations/index.js';
import { startHeartbeat } from './api/heartbeat.js';
import { platformRoutes } from './api/platform/index.js';
import { DEFAULT_WEB_ROOT, webRoutes } from './api/web/routes.js';
import { streamRoutes } from './api/stream/routes.js';
import type { AppContext } from './context.js';
import { PLATFORM_ROUTE_PLUGINS } from './api/platform/routes.js';

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
 * Builds the Fastify instance with every surface mounted, without listening (tests use `inject()`
 * or `listen({ port: 0 })`). Closing the app ends every live stream.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: ctx.config.logLevel },
  });
  acceptEmptyJsonBodies(app);
  // Frames above maxFrameBytes are answered with the documented error event; ws itself only drops
  // frames far beyond it.
  await app.register(fastifyWebsocket, {
    options: { maxPayload: ctx.config.maxFrameBytes * 4 },
    // On close (SIGTERM): the listener is already closed; live streams finish their utterance in
    // flight (bounded by drainTimeoutMs), then every socket left is closed with 1001.
    preClose: async function drain(this: FastifyInstance) {
      await Promise.all([...ctx.activeStreams].map((s) => (s.drain ? s.drain(ctx.config.drainTimeoutMs) : s.shutdown())));
      for (const client of this.websocketServer.clients) client.close(1001, 'Server shutting down');
      await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()));
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
  await app.register(async (scope) => platformRoutes(scope, ctx, PLATFORM_ROUTE_PLUGINS), { prefix: '/api' });
  await app.register(async (scope) => conversationRoutes(scope, ctx));
  await app.register(async (scope) => webRoutes(scope, { root: DEFAULT_WEB_ROOT }));
  return app;
}
