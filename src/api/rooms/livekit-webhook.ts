import type { FastifyInstance } from 'fastify';
import { WebhookReceiver } from 'livekit-server-sdk';
import type { AppContext } from '../../context.js';
import { liveKitWebhookDocs } from './openapi-schemas.js';

/** LiveKit posts its webhooks with this content type (a JSON body, signed in `Authorization`). */
const WEBHOOK_CONTENT_TYPE = 'application/webhook+json';
/** A webhook body is a few KiB; anything bigger is not LiveKit's. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `POST /api/livekit/webhook`: LiveKit's room webhooks (docs/rooms.md "How the interpreter
 * joins"), verified with livekit-server-sdk's `WebhookReceiver` against `LIVEKIT_API_KEY` /
 * `LIVEKIT_API_SECRET` (the body's SHA-256 in a JWT signed with the secret). `participant_joined`
 * brings a waiting room's interpreter in (and removes a revoked identity at once),
 * `room_finished` stops waiting. Answers 204; 401 `invalid_signature` when the signature does not
 * verify, 404 without LiveKit.
 */
export async function liveKitWebhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addContentTypeParser(WEBHOOK_CONTENT_TYPE, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
  app.post('/api/livekit/webhook', { bodyLimit: MAX_BODY_BYTES, schema: { tags: ['webhooks'], summary: 'LiveKit room webhooks (signed JWT in Authorization)', security: [], docs: liveKitWebhookDocs } }, async (request, reply) => {
    const settings = ctx.config.liveKit;
    if (!settings.configured) return reply.code(404).send({ error: { code: 'livekit_not_configured', message: 'LiveKit is not configured on this server (LIVEKIT_URL)' } });
    const body = typeof request.body === 'string' ? request.body : '';
    let event: Awaited<ReturnType<WebhookReceiver['receive']>>;
    try {
      event = await new WebhookReceiver(settings.apiKey, settings.apiSecret).receive(body, request.headers.authorization);
    } catch {
      return reply.code(401).send({ error: { code: 'invalid_signature', message: 'The webhook is not signed with this server\'s LiveKit API key' } });
    }
    const room = event.room?.name;
    if (room && event.event === 'participant_joined' && event.participant && (event.participant.kind as number) !== AGENT_KIND) {
      const identity = event.participant.identity;
      void ctx.interpreterDispatch.participantJoined(room, identity).catch((err: unknown) => request.log.warn({ err, room }, 'LiveKit webhook: participant_joined not handled'));
    }
    if (room && event.event === 'room_finished') ctx.interpreterDispatch.roomFinished(room);
    return reply.code(204).send();
  });
}

/** `ParticipantInfo.Kind.AGENT` of LiveKit's protocol. */
const AGENT_KIND = 4;
