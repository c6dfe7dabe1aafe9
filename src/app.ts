import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { streamRoutes } from './api/stream/routes.js';
import type { AppContext } from './context.js';

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
  return app;
}
