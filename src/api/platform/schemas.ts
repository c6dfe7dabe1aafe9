import { z } from 'zod';

/** `{"error":{"code","message"}}` (spec 000 "Error Codes"), for the OpenAPI document. */
export const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The error responses every authenticated platform route may give. */
export const errorResponses = {
  400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 429: errorBody, 500: errorBody,
} as const;

/** `{ "success": true }`. */
export const successResponse = z.object({ success: z.literal(true) });

/** A path with one `:id`. */
export const idParams = z.object({ id: z.string().min(1).max(100) });
