/**
 * The error every HTTP engine throws (docs/architecture.md "Engines" "timeouts, retries (5xx/429/network only), abort …
 * live in shared base classes"): it says whether trying again (on this engine or another) may
 * succeed, and carries the HTTP status when the server answered.
 */

/** Why an engine request failed. */
export type EngineHttpErrorCode =
  /** The server answered with a non-2xx status (see `status`). */
  | 'http_status'
  /** No response (or no next body chunk) within the engine's `timeoutMs`. */
  | 'timeout'
  /** The connection failed: refused, reset, DNS, TLS. */
  | 'network'
  /** The caller gave up (the stream closed, or the process is closing). */
  | 'aborted'
  /** A 2xx response whose body is not what the protocol documents. */
  | 'malformed_response';

/** What an {@link EngineHttpError} is built from. */
export interface EngineHttpErrorInit {
  /** The engine instance's id (`EngineContext.id`). */
  engine: string;
  code: EngineHttpErrorCode;
  /** What went wrong, for people: the vendor's own message when it sent one. */
  message: string;
  /** True when the same request may succeed later: 5xx, 408, 429, timeouts, network errors. */
  retryable: boolean;
  /** The HTTP status, when the server answered. */
  status?: number;
  /** Attempts made, the failed one included. */
  attempts?: number;
  /** The server's `Retry-After` (or `retry-after-ms`), in ms, when it sent one. */
  retryAfterMs?: number;
  /** The vendor's error code or type (OpenAI `error.code`/`error.type`), when it sent one. */
  vendorCode?: string;
  cause?: unknown;
}

/**
 * A failed engine request. `retryable` tells the router whether to try again or fall back
 * (true for 5xx, 408, 429, timeouts and network errors; false for other 4xx, aborts and malformed
 * bodies, which the same request would hit again).
 */
export class EngineHttpError extends Error {
  readonly engine: string;
  readonly code: EngineHttpErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly retryAfterMs: number | undefined;
  readonly vendorCode: string | undefined;

  constructor(init: EngineHttpErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'EngineHttpError';
    this.engine = init.engine;
    this.code = init.code;
    this.retryable = init.retryable;
    this.status = init.status;
    this.attempts = init.attempts ?? 1;
    this.retryAfterMs = init.retryAfterMs;
    this.vendorCode = init.vendorCode;
  }

  /** The same error after `attempts` attempts, its message saying so. */
  withAttempts(attempts: number): EngineHttpError {
    if (attempts <= 1) return this;
    return new EngineHttpError({
      engine: this.engine,
      code: this.code,
      message: `${this.message} (after ${attempts} attempts)`,
      retryable: this.retryable,
      status: this.status,
      attempts,
      retryAfterMs: this.retryAfterMs,
      vendorCode: this.vendorCode,
      cause: this.cause,
    });
  }
}

/** True for the statuses that may succeed when tried again: 408, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Longest vendor message kept in an error (and so in logs), in characters. */
export const MAX_VENDOR_MESSAGE_CHARS = 300;

/** Credential-looking words: vendor keys (`sk-…`), Tolk's keys and tokens, bearer values. */
const CREDENTIAL_PATTERNS: RegExp[] = [
  /\b(?:sk|pk|rk|ip_live|ip_test|vt|kst_live|kst_test|whsec)[-_][A-Za-z0-9_-]{8,}/g,
  /\b(Bearer|Basic|api-key|Token)\s+[^\s"',;]+/gi,
];

/**
 * `text` with every occurrence of `secrets` (the engine's own key, whatever its shape) and every
 * credential-looking word replaced by `[REDACTED]`, cut to {@link MAX_VENDOR_MESSAGE_CHARS}: a
 * vendor echoing the key it was sent never puts it in an error or a log (docs/security.md "Logs").
 */
export function redactVendorText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 6) out = out.split(secret).join('[REDACTED]');
  out = out.replace(CREDENTIAL_PATTERNS[0] as RegExp, '[REDACTED]').replace(CREDENTIAL_PATTERNS[1] as RegExp, '$1 [REDACTED]');
  return out.length > MAX_VENDOR_MESSAGE_CHARS ? `${out.slice(0, MAX_VENDOR_MESSAGE_CHARS)}…` : out;
}

/**
 * The vendor's message and code in an error body, from the shapes the supported servers document:
 * OpenAI `{"error":{"message","type","code"}}`, LibreTranslate `{"error":"…"}`, FastAPI
 * `{"detail":"…"}` (speaches, Kokoro-FastAPI) and `{"message":"…"}`; otherwise the text itself.
 * Every message goes through {@link redactVendorText} with `secrets`.
 */
export function describeErrorBody(text: string, secrets: readonly string[] = []): { message: string; vendorCode?: string } {
  const found = vendorMessage(text);
  return { ...found, message: redactVendorText(found.message, secrets) };
}

function vendorMessage(text: string): { message: string; vendorCode?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.trim() };
  }
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const error = b.error;
    if (typeof error === 'string') return { message: error };
    if (error && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      const vendorCode = typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : undefined;
      if (typeof e.message === 'string') return { message: e.message, vendorCode };
    }
    if (typeof b.detail === 'string') return { message: b.detail };
    if (typeof b.message === 'string') return { message: b.message };
  }
  return { message: text.trim() };
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI), else `Retry-After` as seconds
 * (decimals allowed) or an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
