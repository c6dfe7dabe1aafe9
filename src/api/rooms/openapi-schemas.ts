import { z } from 'zod';
import { VOICE_TYPES, type VoiceType } from '../../transports/livekit/voice-choice.js';
import { noContent, type RouteDocs } from '../openapi.js';

/**
 * The body of `POST /api/beta1/session` (spec 001 "Create Translation Session"); the route parses
 * its body with this schema (`src/api/rooms/session.ts`).
 */
export const roomSessionBody = z.object({
  source_language: z.string({ error: 'source_language is required (e.g. "en-US")' }).trim().min(1).max(35).describe('BCP 47, e.g. en-US'),
  target_language: z.string({ error: 'target_language is required (e.g. "es-ES")' }).trim().min(1).max(35).describe('BCP 47, e.g. es-ES'),
  voice_type: z.enum(VOICE_TYPES as [VoiceType, ...VoiceType[]], { error: 'voice_type must be "clone", "female" or "male"' }).default('clone'),
  simultaneous: z.boolean({ error: 'simultaneous must be true or false' }).default(false)
    .describe('Tolk extension (docs/rooms.md "Simultaneous mode"): speak stable segments of long utterances while they go on'),
});

/** Spec 001's error body `{"error":{"code","message"}}` with a lower-case `code` (`RoomsErrorCode`). */
export const roomsErrorSchema = z.object({
  error: z.object({
    code: z.enum(['invalid_language', 'invalid_request', 'request_too_large', 'invalid_token', 'rate_limit_exceeded', 'not_configured', 'livekit_not_configured', 'invalid_signature', 'internal_error']),
    message: z.string(),
  }),
});

/** `POST /api/beta1/session` for `/api/openapi.json` (docs/rooms.md). */
export const roomSessionDocs: RouteDocs = {
  body: roomSessionBody,
  response: {
    200: z.object({
      url: z.string().describe('The LiveKit server\'s URL (LIVEKIT_URL)'),
      token: z.string().describe('A LiveKit access token (JWT) for the room'),
      room_name: z.string().describe('api-<random id>'),
    }),
    400: roomsErrorSchema.describe('invalid_language (a missing, malformed or unsupported language) or invalid_request'),
    401: roomsErrorSchema.describe('invalid_token: missing or unknown API key'),
    413: roomsErrorSchema.describe('request_too_large'),
    429: roomsErrorSchema.describe('rate_limit_exceeded: past the per-key limit, or no interpreter capacity left (Retry-After)'),
    503: roomsErrorSchema.describe('not_configured: the server has no LiveKit (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)'),
  },
};

/** `POST /api/livekit/webhook` for `/api/openapi.json` (docs/rooms.md "How the interpreter joins"). */
export const liveKitWebhookDocs: RouteDocs = {
  consumes: ['application/webhook+json'],
  body: z.looseObject({
    event: z.string().describe('participant_joined and room_finished are acted on; others are acknowledged'),
    room: z.looseObject({ name: z.string() }).optional(),
    participant: z.looseObject({ identity: z.string(), kind: z.number().int().optional() }).optional(),
    id: z.string().optional(),
    createdAt: z.union([z.string(), z.number()]).optional(),
  }).describe('LiveKit\'s WebhookEvent; Authorization carries a JWT signed with LIVEKIT_API_SECRET holding the body\'s SHA-256'),
  headers: z.object({ authorization: z.string().describe('LiveKit\'s signed JWT') }),
  response: {
    204: noContent('Received'),
    401: roomsErrorSchema.describe('invalid_signature'),
    404: roomsErrorSchema.describe('livekit_not_configured'),
  },
};
