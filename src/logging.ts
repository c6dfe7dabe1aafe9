import type { FastifyServerOptions } from 'fastify';

/** What replaces a credential in the log. */
export const REDACTED = '[REDACTED]';

/** Query parameters that carry credentials (compared case-insensitively): `/vt?authorization=api-key%20vt_…`. */
export const CREDENTIAL_QUERY_PARAMS: readonly string[] = ['authorization', 'api_key', 'token'];

/** Request headers that carry credentials (lower case, as Node presents them). */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie', 'x-vapi-secret', 'stripe-signature', 'x-tolk-worker-secret'];

/** A destination for log lines (newline-delimited JSON), e.g. a test's capture. */
export interface LogStream {
  write(line: string): void;
}

/**
 * A URL (absolute, or a path with a query string) with the value of every credential query
 * parameter ({@link CREDENTIAL_QUERY_PARAMS}, any case, also percent-encoded names) replaced by
 * {@link REDACTED}. Everything else is kept byte for byte; a URL without a query is returned as is.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  const params = url.slice(q + 1, end).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // a malformed name is compared as sent
    }
    return CREDENTIAL_QUERY_PARAMS.includes(name.trim().toLowerCase()) ? `${rawName}=${REDACTED}` : pair;
  });
  return `${url.slice(0, q + 1)}${params.join('&')}${url.slice(end)}`;
}

/** Pino redaction paths for {@link CREDENTIAL_HEADERS} under `headers`, `req.headers` and one level deeper. */
function headerPaths(): string[] {
  return CREDENTIAL_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `*.headers["${h}"]`]);
}

/** The request as logged: Fastify's default fields, with the URL redacted. */
function serializeRequest(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } | null }): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Fastify logger options of every Tolk HTTP server (docs/security.md): `level`, an optional
 * destination, the request URL logged with credential query parameters redacted (`url` fields of
 * log objects too), and credential headers redacted wherever a `headers` object is logged.
 * @param level - `LOG_LEVEL` (`fatal` … `trace`, `silent`).
 * @param stream - where lines go instead of stdout.
 */
export function loggerOptions(level: string, stream?: LogStream): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    ...(stream ? { stream } : {}),
    serializers: {
      req: serializeRequest,
      url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
    },
    redact: { paths: headerPaths(), censor: REDACTED },
  };
}
