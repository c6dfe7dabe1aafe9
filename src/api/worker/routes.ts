import { timingSafeEqual } from 'node:crypto';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { LEG2_PATH, WORKER_SECRET_HEADER } from '../../realtime/leg2-protocol.js';
import { loggerOptions } from '../../logging.js';
import { TOLK_VERSION } from '../../version.js';
import type { WorkerRuntime } from '../../realtime/worker-runtime.js';
import { Leg2Connection } from '../../transports/leg2-connection.js';
import { sendReadiness } from '../readiness.js';

/** True when `given` is the shared secret (compared in constant time). */
export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The HTTP side of a worker process (role `worker`, docs/architecture.md "Processes"): only leg 2 at {@link LEG2_PATH}
 * (the upgrade needs the {@link WORKER_SECRET_HEADER} header, else HTTP 401), `GET /api/health`, `GET /api/health/ready` (docs/deploy.md "Readiness")
 * (spec 000's liveness shape) and `GET /metrics`. Closing the app drains live streams: each
 * finishes its utterance in flight (at most `drainTimeoutMs`), then leg 2 closes with 1001.
 * @param options.secret - `TOLK_WORKER_SECRET`.
 * @param options.renderMetrics - the Prometheus exposition of the process.
 */
export async function buildWorkerApp(
  rt: WorkerRuntime,
  options: { logLevel: string; secret: string; drainTimeoutMs: number; renderMetrics: () => Promise<{ contentType: string; body: string }>; readiness: () => readonly string[] },
): Promise<FastifyInstance> {
  const app = Fastify({ logger: loggerOptions(options.logLevel) });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: rt.settings.maxFrameBytes * 4, perMessageDeflate: false },
    preClose: async function drain(this: FastifyInstance) {
      rt.draining = true;
      rt.loadChanged();
      await Promise.all([...rt.streams].map((s) => s.drain(options.drainTimeoutMs)));
      for (const client of this.websocketServer.clients) client.close(1001, 'Worker shutting down');
      await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()));
    },
  });
  app.addHook('onClose', async () => {
    await Promise.all([...rt.streams].map((s) => s.shutdown()));
  });
  app.get('/api/health', async () => ({ status: 'ok' as const, version: TOLK_VERSION, timestamp: new Date().toISOString() }));
  app.get('/api/health/ready', async (_request, reply) => sendReadiness(reply, options.readiness()));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await options.renderMetrics();
    return reply.type(contentType).send(body);
  });
  await app.register(async (scope) => {
    scope.addHook('preValidation', async (request, reply) => {
      if (!secretMatches(request.headers[WORKER_SECRET_HEADER], options.secret)) {
        request.log.warn('leg 2 upgrade without the right worker secret');
        await reply.code(401).send({ error: 'leg 2 needs the x-tolk-worker-secret header (TOLK_WORKER_SECRET)' });
      }
    });
    scope.get(LEG2_PATH, { websocket: true }, (socket, request) => {
      new Leg2Connection(rt, socket, request.log);
    });
  });
  return app;
}
