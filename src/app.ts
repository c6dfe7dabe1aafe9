import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { conversationRoutes } from './api/conversations/index.js';
import { platformRoutes } from './api/platform/index.js';
import { DEFAULT_WEB_ROOT, webRoutes } from './api/web/routes.js';
import { streamRoutes } from './api/stream/routes.js';
import type { AppContext } from './context.js';
import { PLATFORM_ROUTE_PLUGINS } from './api/platform/routes.js';

/**
 * Builds the Fastify instance with every surface mounted, without listening (tests use `inject()`
 * or `listen({ port: 0 })`). Closing the app ends every live stream.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: ctx.config.logLevel },
  });
  // Frames above maxFrameBytes are answered with the documented error event; ws itself only drops
  // frames far beyond it.
  await app.register(fastifyWebsocket, { options: { maxPayload: ctx.config.maxFrameBytes * 4 } });
  app.addHook('onClose', async () => {
    await Promise.all([...ctx.activeStreams].map((s) => s.shutdown()));
  });
  await app.register(async (scope) => streamRoutes(scope, ctx));
  await app.register(async (scope) => platformRoutes(scope, ctx, PLATFORM_ROUTE_PLUGINS), { prefix: '/api' });
  await app.register(async (scope) => conversationRoutes(scope, ctx));
  await app.register(async (scope) => webRoutes(scope, { root: DEFAULT_WEB_ROOT }));
  return app;
}
