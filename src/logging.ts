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
 * Lines are JSON, or {@link formatLogLine}'s one-line text when {@link logFormat} is `pretty`.
 * @param level - `LOG_LEVEL` (`fatal` … `trace`, `silent`).
 * @param stream - where lines go instead of stdout (always JSON).
 */
export function loggerOptions(level: string, stream?: LogStream): NonNullable<FastifyServerOptions['logger']> {
  const destination = stream ?? (logFormat() === 'pretty' ? prettyLogStream(process.stdout) : undefined);
  return {
    level,
    ...(destination ? { stream: destination } : {}),
    serializers: {
      req: serializeRequest,
      url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
    },
    redact: { paths: headerPaths(), censor: REDACTED },
  };
}

/** pino's level numbers → names. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields of a pino line that {@link formatLogLine} shows in its own way or leaves out. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * The log format of stdout: `TOLK_LOG_FORMAT` (`json` or `pretty`) when set, else `pretty` on a
 * terminal and `json` otherwise (files, pipes, log collectors: docs/operations.md "Logs").
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, stdoutIsTty: boolean = process.stdout.isTTY === true): 'json' | 'pretty' {
  if (env.TOLK_LOG_FORMAT === 'json' || env.TOLK_LOG_FORMAT === 'pretty') return env.TOLK_LOG_FORMAT;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * One pino JSON line as text for a person: local time (HH:MM:SS.mmm), level, message, then the
 * other fields as `key=value` (strings bare when they have no spaces, else JSON). A line that is not
 * JSON is returned as it is.
 */
export function formatLogLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const hhmmss = `${time.toTimeString().slice(0, 8)}.${String(time.getMilliseconds()).padStart(3, '0')}`;
  const level = (LEVEL_NAMES[Number(o.level)] ?? String(o.level)).padEnd(5);
  const fields = Object.entries(o)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) && v !== '' ? v : JSON.stringify(v)}`);
  return `${hhmmss} ${level} ${String(o.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination that writes {@link formatLogLine}'s text to `out`. */
export function prettyLogStream(out: { write(text: string): unknown }): LogStream {
  return { write: (line: string) => void out.write(formatLogLine(line)) };
}
