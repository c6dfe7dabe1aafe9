import { z } from 'zod';
import { CALL_MODES } from '../../domain/calls/model.js';
import { contentResponse, type RouteDocs } from '../openapi.js';

/**
 * The calls surface's error body (spec 004 "Errors"), as `callsErrorBody` renders it
 * (`src/api/calls/errors.ts`).
 */
export const callsErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), type: z.string(), param: z.string().optional() }),
});

const isoTime = z.string().describe('ISO 8601, seconds precision');
const idParams = z.object({ id: z.string() });
const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().describe('A retry with the same key and body gets the first answer again (Stripe\'s convention)'),
});

/** Errors every key-guarded calls route may answer (spec 004 "Errors"). */
const commonErrors = {
  401: callsErrorSchema.describe('invalid_api_key'),
  429: callsErrorSchema.describe('rate_limit_exceeded (TOLK_CALLS_RATE_LIMIT_PER_MIN)'),
};
const notFound = { 404: callsErrorSchema.describe('session_not_found / recording_not_found (also another organization\'s)') };

/** The session object of `POST /v1/sessions` (`renderCreatedSession`, `src/api/calls/render.ts`). */
const createdSession = z.object({
  id: z.string(),
  object: z.literal('session'),
  status: z.enum(['created', 'connecting', 'active', 'ended']),
  mode: z.enum(CALL_MODES),
  source_language: z.string(),
  target_language: z.string(),
  stream: z.object({ url: z.string().describe('ws(s)://…/v1/sessions/{id}/connect'), token: z.string(), expires_at: isoTime })
    .optional().describe('Absent once the session has ended'),
  provider: z.object({
    type: z.string(), phone_number: z.string(), status: z.enum(['pending', 'ringing', 'connected', 'completed', 'failed']), call_sid: z.string().optional(),
  }).nullable(),
  recording: z.object({ enabled: z.boolean(), channels: z.enum(['dual', 'mono']) }),
  ai_agent: z.record(z.string(), z.unknown()).optional(),
  transcription: z.record(z.string(), z.unknown()).optional(),
  webhook_url: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  created_at: isoTime,
});

/** The session object of `GET /v1/sessions/{id}` and `POST …/end` (`renderSession`). */
export const callSessionSchema = createdSession.extend({
  duration: z.number().describe('seconds'),
  transcript: z.object({ available: z.boolean(), word_count: z.number().int() }),
  started_at: isoTime.nullable(),
  ended_at: isoTime.nullable(),
  end_reason: z.string().optional(),
});

/** A recording object (`renderRecording`). */
export const recordingSchema = z.object({
  id: z.string(), object: z.literal('recording'), session_id: z.string(), channel: z.string(),
  status: z.enum(['processing', 'ready', 'failed']), duration: z.number().describe('seconds'), format: z.string(),
  size: z.number().int().describe('bytes'), sample_rate: z.number().int().describe('Hz'), bit_depth: z.number().int(), channels: z.number().int(),
  download_url: z.string().nullable().describe('/v1/recordings/{id}/audio (needs the API key) once ready'),
  created_at: isoTime,
});

const transcriptSchema = z.object({
  object: z.literal('transcript'), session_id: z.string(), status: z.enum(['complete', 'in_progress']),
  language: z.object({ source: z.string(), target: z.string() }),
  segments: z.array(z.object({
    id: z.string(), speaker: z.enum(['customer', 'agent']), language: z.string(), text: z.string(),
    translation: z.string().optional(), translation_language: z.string().nullable().optional(),
    start_time: z.number().describe('seconds from the session\'s start'), end_time: z.number(), confidence: z.number().nullable(),
  })),
  duration: z.number(),
  word_count: z.number().int(),
});

const webhookEndpoint = z.object({ id: z.string(), object: z.literal('webhook_endpoint'), url: z.string().nullable(), secret: z.string().describe('whsec_…'), created_at: isoTime });

/** What Tolk posts to a session's `webhook_url` or the organization's endpoint (docs/calls.md "Webhooks"). */
export const webhookEnvelope = z.object({
  id: z.string().describe('evt_…, the same on every retry: dedupe on it'),
  type: z.enum(['session.created', 'session.started', 'session.ended', 'session.provider.connected', 'session.provider.disconnected', 'transcript.ready', 'recording.ready', 'recording.failed']),
  api_version: z.literal('v1'),
  created_at: isoTime,
  data: z.record(z.string(), z.unknown()).describe('session.*: the session object; transcript.ready: {object, session_id, status, segment_count, word_count}; recording.*: the recording'),
}).describe('Signed: Kallglot-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>');

/**
 * `POST /v1/sessions` for `/api/openapi.json` only: the body is checked field by field by
 * `parseCreateSession` (`src/api/calls/session-request.ts`), whose `validation_error` names the field.
 * Its callbacks are the webhooks Tolk sends about the session.
 */
export const createSessionDocs: RouteDocs = {
  body: z.object({
    mode: z.enum(CALL_MODES),
    source_language: z.string().describe('BCP-47 code, e.g. en-US'),
    target_language: z.string().describe('BCP-47 code, e.g. es-ES'),
    provider: z.record(z.string(), z.unknown()).optional(),
    routing: z.record(z.string(), z.unknown()).optional(),
    ai_agent: z.record(z.string(), z.unknown()).optional().describe('Required when mode is ai_agent'),
    recording: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
    transcription: z.record(z.string(), z.unknown()).optional(),
    webhook_url: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional().describe('Up to 50 keys; values up to 500 characters'),
  }).strict(),
  headers: idempotencyHeaders,
  response: {
    201: createdSession,
    400: callsErrorSchema.describe('validation_error naming the field (param)'),
    ...commonErrors,
    409: callsErrorSchema.describe('idempotency_conflict: the key was used with another body, or its first request is still running'),
    422: callsErrorSchema.describe('llm_not_configured / telephony_not_configured'),
  },
  callbacks: {
    sessionEvents: {
      url: '{$request.body#/webhook_url}',
      description: 'Session events, to the session\'s webhook_url or else the organization\'s endpoint (GET /v1/webhook_endpoints); retried with backoff until a 2xx.',
      body: webhookEnvelope,
    },
  },
};

/** A call session as `GET /v1/sessions` lists it (`renderListedSession`): no stream token, no transcript summary. */
export const listedCallSessionSchema = z.object({
  id: z.string(), object: z.literal('session'), status: z.enum(['created', 'connecting', 'active', 'ended']), mode: z.enum(CALL_MODES),
  source_language: z.string(), target_language: z.string(), recording: z.object({ enabled: z.boolean(), channels: z.enum(['dual', 'mono']) }),
  duration: z.number().describe('seconds'), created_at: isoTime, started_at: isoTime.nullable(), ended_at: isoTime.nullable(), end_reason: z.string().optional(),
});

/** `GET /v1/sessions` (not in spec 004: docs/calls.md "List sessions"). */
export const listSessionsDocs: RouteDocs = {
  querystring: z.object({
    limit: z.string().optional().describe('1–100, default 20'),
    status: z.enum(['created', 'connecting', 'active', 'ended']).optional(),
  }),
  response: { 200: z.object({ object: z.literal('list'), data: z.array(listedCallSessionSchema), has_more: z.boolean() }), 400: callsErrorSchema, ...commonErrors },
};

/** `GET /v1/sessions/{id}`. */
export const getSessionDocs: RouteDocs = { params: idParams, response: { 200: callSessionSchema, ...commonErrors, ...notFound } };

/** `POST /v1/sessions/{id}/end` (idempotent with `Idempotency-Key`). */
export const endSessionDocs: RouteDocs = {
  params: idParams,
  bodyOptional: true,
  headers: idempotencyHeaders,
  body: z.object({ reason: z.enum(['completed', 'customer_hangup', 'agent_hangup', 'error', 'timeout']).default('completed') }).describe('Optional; an empty body ends with reason completed'),
  response: { 200: callSessionSchema, 400: callsErrorSchema, ...commonErrors, ...notFound },
};

/** `GET /v1/sessions/{id}/transcript`. */
export const transcriptDocs: RouteDocs = {
  params: idParams,
  querystring: z.object({
    format: z.enum(['json', 'text']).default('json'),
    include_translations: z.enum(['true', 'false']).default('true'),
  }),
  response: {
    200: { description: 'The transcript: JSON, or with format=text one line per segment', content: { 'application/json': { schema: transcriptSchema }, 'text/plain': { schema: z.string() } } },
    400: callsErrorSchema, ...commonErrors, ...notFound,
  },
};

/** `GET /v1/sessions/{id}/recordings`. */
export const sessionRecordingsDocs: RouteDocs = {
  params: idParams,
  querystring: z.object({ channel: z.string().optional().describe('customer, agent or mixed') }),
  response: { 200: z.object({ object: z.literal('list'), data: z.array(recordingSchema), session_id: z.string() }), ...commonErrors, ...notFound },
};

/** `GET /v1/recordings/{id}`. */
export const recordingDocs: RouteDocs = { params: idParams, response: { 200: recordingSchema, ...commonErrors, ...notFound } };

/** `GET /v1/recordings/{id}/audio`. */
export const recordingAudioDocs: RouteDocs = {
  params: idParams,
  response: { 200: contentResponse('audio/wav', 'The recording: 16-bit PCM WAV (attachment)', z.string().describe('binary')), ...commonErrors, ...notFound },
};

const adminOnly = { 403: callsErrorSchema.describe('insufficient_permissions: owner or admin keys only') };

/** `GET /v1/webhook_endpoints` (owner/admin). */
export const listEndpointsDocs: RouteDocs = { response: { 200: z.object({ object: z.literal('list'), data: z.array(webhookEndpoint) }), ...commonErrors, ...adminOnly } };

/** `POST /v1/webhook_endpoints` (owner/admin). */
export const setEndpointDocs: RouteDocs = {
  bodyOptional: true,
  body: z.object({
    url: z.string().nullable().optional().describe('An http(s) URL; null stops sending'),
    roll_secret: z.boolean().optional().describe('true replaces the signing secret'),
  }),
  response: { 200: webhookEndpoint, 400: callsErrorSchema, ...commonErrors, ...adminOnly },
};

/** `GET /v1/webhook_events` (owner/admin). */
export const listEventsDocs: RouteDocs = {
  querystring: z.object({ session_id: z.string().optional(), limit: z.coerce.number().int().min(1).max(100).default(20) }),
  response: {
    200: z.object({
      object: z.literal('list'),
      data: z.array(z.object({
        id: z.string(), object: z.literal('webhook_event'), type: z.string(), session_id: z.string().nullable(), url: z.string().nullable(),
        status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number().int(), next_attempt_at: isoTime.nullable(), last_error: z.string().nullable(),
        created_at: isoTime, delivered_at: isoTime.nullable(),
        delivery_attempts: z.array(z.object({ attempt: z.number().int(), status_code: z.number().int().nullable(), error: z.string().nullable(), duration_ms: z.number().nullable(), at: isoTime })),
      })),
    }),
    400: callsErrorSchema, ...commonErrors, ...adminOnly,
  },
};
