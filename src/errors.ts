/**
 * The one registry of error codes (docs/architecture.md "Errors"). Each surface renders an {@link AppError} in its own
 * documented shape; realtime surfaces close with `4000 + status`.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, reason: 'Bad Request' },
  UNAUTHORIZED: { status: 401, reason: 'Unauthorized' },
  PAYMENT_REQUIRED: { status: 402, reason: 'Payment Required' },
  FORBIDDEN: { status: 403, reason: 'Forbidden' },
  NOT_FOUND: { status: 404, reason: 'Not Found' },
  REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout' },
  CONFLICT: { status: 409, reason: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, reason: 'Payload Too Large' },
  UNPROCESSABLE: { status: 422, reason: 'Unprocessable Entity' },
  RATE_LIMITED: { status: 429, reason: 'Too Many Requests' },
  INTERNAL_ERROR: { status: 500, reason: 'Internal Server Error' },
  NOT_IMPLEMENTED: { status: 501, reason: 'Not Implemented' },
} as const;

/** A registered error code name. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error meant for the client: `message` says what was wrong and how to fix the call. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }

  /** HTTP status of the code. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** Short reason phrase of the code. */
  get reason(): string {
    return ERROR_CODES[this.code].reason;
  }
}

/** The registered code for an HTTP status (500 for anything unknown). */
export function codeForStatus(status: number): ErrorCode {
  const found = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === status);
  return found ?? 'INTERNAL_ERROR';
}
