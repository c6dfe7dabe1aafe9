import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, codeForStatus, type ErrorCode } from '../../errors.js';

/** The platform error body (spec 000 "Error Codes"): `{"error":{"code","message"}}`. */
export interface PlatformErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Renders an error code and message in the platform shape. */
export function platformError(code: ErrorCode, message: string): PlatformErrorBody {
  return { error: { code, message } };
}

/**
 * The platform surface's error handler (spec 000 "Error Codes", docs/architecture.md "Errors"): every failure answers
 * `{"error":{"code","message"}}` with the registered status. Request validation failures are 400
 * `BAD_REQUEST` naming the field; unexpected errors are 500 `INTERNAL_ERROR` and never leak internals.
 */
export function handlePlatformError(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof AppError) {
    void reply.code(error.status).send(platformError(error.code, error.message));
    return;
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issue = error.validation[0];
    const where = [error.validationContext, issue?.instancePath.replace(/^\//, '').replaceAll('/', '.')].filter(Boolean).join('.');
    void reply.code(400).send(platformError('BAD_REQUEST', `Invalid ${where || 'request'}: ${issue?.message ?? 'invalid value'}`));
    return;
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status === 429) {
    const retryAfter = reply.getHeader('retry-after');
    void reply.code(429).send(platformError('RATE_LIMITED', `Too many requests. Retry after ${String(retryAfter ?? 60)} seconds.`));
    return;
  }
  if (status >= 400 && status < 500) {
    // Statuses without a code of their own (415 media type, …) are 400; 413 is PAYLOAD_TOO_LARGE.
    const known = codeForStatus(status);
    const code = known === 'INTERNAL_ERROR' ? 'BAD_REQUEST' : known;
    void reply.code(code === 'BAD_REQUEST' ? 400 : status).send(platformError(code, error.message));
    return;
  }
  request.log.error({ err: error }, 'platform request failed');
  void reply.code(500).send(platformError('INTERNAL_ERROR', 'Internal server error. Contact support if this persists.'));
}
