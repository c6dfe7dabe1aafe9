import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../errors.js';

/**
 * The calls surface's error body (vendor docs "Error Codes"): `{"error":{"code","message","type",
 * "param"}}` — `code` machine-readable (`invalid_request`, `missing_required_field`, …), `type` its
 * category (`validation_error`, `authentication_error`, …), `param` the field at fault when there is one.
 */
export interface CallsErrorBody {
  error: { code: string; message: string; type: string; param?: string };
}

/** An {@link AppError} with the vendor's `code`, `type` and `param`. */
export class CallsError extends AppError {
  constructor(code: ErrorCode, message: string, readonly vendorCode: string, readonly type: string, readonly param?: string) {
    super(code, message);
  }
}

/** The vendor code and type of a registered error code without a more specific one. */
const DEFAULTS: Record<ErrorCode, { code: string; type: string }> = {
  BAD_REQUEST: { code: 'invalid_request', type: 'validation_error' },
  UNAUTHORIZED: { code: 'invalid_api_key', type: 'authentication_error' },
  PAYMENT_REQUIRED: { code: 'insufficient_api_credits', type: 'billing_error' },
  FORBIDDEN: { code: 'insufficient_permissions', type: 'authorization_error' },
  NOT_FOUND: { code: 'resource_not_found', type: 'not_found_error' },
  REQUEST_TIMEOUT: { code: 'request_timeout', type: 'api_error' },
  CONFLICT: { code: 'conflict', type: 'invalid_request_error' },
  PAYLOAD_TOO_LARGE: { code: 'request_too_large', type: 'invalid_request_error' },
  UNPROCESSABLE: { code: 'unprocessable', type: 'validation_error' },
  RATE_LIMITED: { code: 'rate_limit_exceeded', type: 'rate_limit_error' },
  INTERNAL_ERROR: { code: 'internal_error', type: 'api_error' },
  NOT_IMPLEMENTED: { code: 'not_implemented', type: 'api_error' },
};

/** Renders an error in the calls shape. */
export function callsErrorBody(error: AppError): CallsErrorBody {
  const d = DEFAULTS[error.code];
  const specific = error instanceof CallsError ? error : undefined;
  return {
    error: {
      code: specific?.vendorCode ?? d.code, message: error.message, type: specific?.type ?? d.type,
      ...(specific?.param !== undefined ? { param: specific.param } : {}),
    },
  };
}

/** 400 `validation_error` naming `param`. */
export function invalidField(param: string, message: string, code = 'invalid_field_value'): CallsError {
  return new CallsError('BAD_REQUEST', message, code, 'validation_error', param);
}

/**
 * The calls surface's error handler (docs/architecture.md "Errors"): every failure answers in the vendor's shape with
 * the registered status; unexpected errors are 500 `internal_error` and never leak internals.
 */
export function handleCallsError(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof AppError) {
    void reply.code(error.status).send(callsErrorBody(error));
    return;
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    void reply.code(code === 'BAD_REQUEST' ? 400 : status).send(callsErrorBody(new AppError(code, status === 413 ? 'The request body is larger than this server accepts.' : error.message)));
    return;
  }
  request.log.error({ err: error }, 'calls request failed');
  void reply.code(500).send(callsErrorBody(new AppError('INTERNAL_ERROR', 'Internal server error. Contact support if this persists.')));
}
