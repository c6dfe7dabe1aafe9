import type { FastifyInstance } from 'fastify';
import type { CallsContext } from '../../gateway/calls/calls-service.js';
import { CallStreamConnection } from '../../transports/calls-stream.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The stream socket of spec 004 at `stream.url` (`/v1/sessions/{id}/connect`): the token comes as
 * `?token=` or `Authorization: Bearer <stream.token>` (both documented), `?speaker=` picks the leg.
 */
export async function callStreamRoute(app: FastifyInstance, ctx: CallsContext): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { token?: string; speaker?: string } }>('/v1/sessions/:id/connect', { websocket: true }, (socket, request) => {
    const header = request.headers.authorization;
    const token = request.query.token ?? (header ? BEARER.exec(header)?.[1] : undefined);
    const connection = new CallStreamConnection(ctx, socket, { sessionId: request.params.id, token, speaker: request.query.speaker }, request.log);
    connection.start().catch((err: unknown) => {
      request.log.error({ err }, 'calls stream start failed');
      socket.close(4500, 'Server failed to start the stream');
    });
  });
}
