import { z } from 'zod';
import { CALL_MODES } from '../../domain/calls/model.js';
import type { RouteDocs } from '../openapi.js';

/**
 * The calls surface's error body (spec 004 "Errors"), as `callsErrorBody` renders it
 * (`src/api/calls/errors.ts`).
 */
export const callsErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), type: z.string(), param: z.string().optional() }),
});

/**
 * `POST /v1/sessions` for `/api/openapi.json` only: the body is checked field by field by
 * `parseCreateSession` (`src/api/calls/session-request.ts`), whose `validation_error` names the field.
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
  response: { 400: callsErrorSchema, 401: callsErrorSchema, 409: callsErrorSchema, 429: callsErrorSchema },
};
