import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../errors.js';
import { platformError } from './platform/errors.js';
import { errorEvent } from '../realtime/stream-events.js';

/** Which surface's documented error shape a URL gets. */
export type ErrorSurface = 'platform' | 'rooms' | 'conversations' | 'stream' | 'calls' | 'other';

/**
 * The surface of a request path: `/api/v1/…` is spec 003 (conversations, `{"error":"…"}`),
 * `/api/beta1/…` spec 001 (`{"error":{"code","message"}}` with its lower-case codes), the rest
 * of `/api` spec 000 (`{"error":{"code","message"}}`), `/vt` and `/v2/…` spec 002 Part 1
 * (`{"error":{"code","reason","description"}}`), `/v1/…` spec 004 (`{"error":{"code","message","type"}}`),
 * anything else (the web app) Fastify's own.
 */
export function surfaceOf(url: string): ErrorSurface {
  const p = url.split('?')[0] ?? '';
  if (p === '/api/v1' || p.startsWith('/api/v1/')) return 'conversations';
  if (p === '/api/beta1' || p.startsWith('/api/beta1/')) return 'rooms';
  if (p === '/api' || p.startsWith('/api/')) return 'platform';
  if (p === '/vt' || p.startsWith('/vt/') || p.startsWith('/v2/')) return 'stream';
  if (p.startsWith('/v1/')) return 'calls';
  return 'other';
}

/**
 * An error found before any route ran (the router or Node's HTTP parser), as `surface` documents
 * it. Spec 000 has no code for 408, 414 or 431: they are 400 `BAD_REQUEST`
 * (docs/platform.md); the stream surface's error event likewise answers 400 for a status it has no
 * reason for; spec 003 gets `{"error":"…"}` with the status.
 * @param status - the HTTP status the router meant (400, 404, 408, 414, 431…).
 * @returns the status to answer and the JSON body.
 */
export function routerError(surface: ErrorSurface, status: number, message: string): { status: number; body: string } {
  switch (surface) {
    case 'platform':
      return status === 404
        ? { status, body: JSON.stringify(platformError('NOT_FOUND', message)) }
        : { status: 400, body: JSON.stringify(platformError('BAD_REQUEST', message)) };
    case 'conversations':
      return { status, body: JSON.stringify({ error: message }) };
    case 'calls':
      return status === 404
        ? { status, body: JSON.stringify({ error: { code: 'resource_not_found', message, type: 'not_found_error' } }) }
        : { status: 400, body: JSON.stringify({ error: { code: 'invalid_request', message, type: 'validation_error' } }) };
    case 'rooms':
      return { status, body: JSON.stringify({ error: { code: 'invalid_request', message } }) };
    case 'stream': {
      const known = Object.values(ERROR_CODES).some((c) => c.status === status) ? status : 400;
      return { status: known, body: errorEvent(known, message) };
    }
    default:
      return { status, body: JSON.stringify({ statusCode: status, error: status === 404 ? 'Not Found' : 'Bad Request', message }) };
  }
}

/** What the router's errors say (never the URL itself: it may be 16 KB long and carry a key). */
function frameworkErrorMessage(error: FastifyError): { status: number; message: string } {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, message: 'A path parameter is longer than 100 characters' };
    case 'FST_ERR_BAD_URL':
      return { status: 400, message: 'Malformed URL: a path segment is not valid percent-encoding' };
    default:
      return { status: error.statusCode ?? 400, message: 'Malformed request' };
  }
}

/**
 * Fastify's `frameworkErrors` option: errors of the router itself (a path parameter over
 * `maxParamLength`, bad percent-encoding) answered in the shape of the URL's surface
 * ({@link routerError}) instead of Fastify's `{"error","code","message","statusCode"}`.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, message } = frameworkErrorMessage(error);
  const answer = routerError(surfaceOf(request.url), status, message);
  void reply.code(answer.status).type('application/json').send(answer.body);
}

/** The request path of the packet Node's HTTP parser failed on, when the packet begins with the request line. */
function pathOfRawPacket(packet: unknown): string | undefined {
  const head = Buffer.isBuffer(packet) ? packet.subarray(0, 64).toString('latin1') : undefined;
  return head ? /^[A-Z]+ (\/\S*)/.exec(head)?.[1] : undefined;
}

/**
 * Fastify's `clientErrorHandler` option (Node's `clientError`: a request Node could not parse, e.g.
 * a URL over the 16 KB header limit, 431): answered in the shape of the request's surface when the
 * failing packet shows its path, else in Fastify's shape; then the socket is closed. Nothing is
 * logged: the error's `rawPacket` holds the request line and headers, keys included.
 */
export function handleClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'The request line and headers exceed the 16 KB limit']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'The request was not received in time'] : [400, 'Malformed HTTP request'];
  const path = pathOfRawPacket(err.rawPacket);
  const answer = routerError(path ? surfaceOf(path) : 'other', status, message);
  if (socket.writable) {
    const reason = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' }[answer.status] ?? 'Bad Request';
    socket.write(`HTTP/1.1 ${answer.status} ${reason}\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${answer.body}`);
  }
  socket.destroy(err);
}
