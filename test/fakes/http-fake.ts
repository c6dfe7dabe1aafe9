/**
 * The core of the vendor stand-ins in test/fakes/: a real HTTP server on port 0 that records every
 * request (headers, JSON body, parsed multipart fields and files) and answers each route from a
 * script first (errors, a response that never comes, a dropped connection, a malformed body) and
 * from the vendor's documented behaviour after that.
 */
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A multipart file part as received. */
export interface RecordedFile {
  filename: string;
  type: string;
  bytes: Buffer;
}

/** One request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** The parsed body when it was `application/json` (undefined when it did not parse). */
  json?: unknown;
  /** Text fields of a `multipart/form-data` or urlencoded body; repeated names keep every value. */
  fields?: Record<string, string[]>;
  /** File parts of a `multipart/form-data` body. */
  files?: Record<string, RecordedFile>;
}

/** A scripted answer for the next request on a route. */
export type ScriptedResponse =
  /** A status with a body (JSON when an object) and headers. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answers: the request stays open until the client gives up or the server closes. */
  | 'hang'
  /** Destroys the connection without an answer (a network error for the client). */
  | 'drop';

/** A route's documented behaviour: writes the answer to a request. */
export type RouteHandler = (request: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

/** A running fake server. */
export class HttpFake extends EventEmitter {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Requests whose client closed the connection before the answer ended. */
  clientAborts = 0;
  private readonly server: http.Server;
  private readonly scripts = new Map<string, ScriptedResponse[]>();
  private readonly routes = new Map<string, RouteHandler>();
  private readonly hanging = new Set<http.ServerResponse>();

  constructor() {
    super();
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Starts listening on 127.0.0.1, port 0. */
  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  /** `http://127.0.0.1:<port>`. */
  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sets the documented behaviour of `METHOD /path`. */
  route(method: string, path: string, handler: RouteHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Queues answers for the next requests on `path` (any method), used before its route's behaviour. */
  script(path: string, ...responses: ScriptedResponse[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...responses]);
  }

  /** Requests received on `path`. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves when `count` requests have been received in all. */
  async waitForRequests(count: number): Promise<void> {
    while (this.requests.length < count) await once(this, 'request');
  }

  /** Resolves when `count` client aborts have been seen in all. */
  async waitForClientAborts(count: number): Promise<void> {
    while (this.clientAborts < count) await once(this, 'client-abort');
  }

  /** Stops the server, ending hanging requests. */
  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const recorded = await record(req);
    res.on('close', () => {
      this.hanging.delete(res);
      if (!res.writableFinished) {
        this.clientAborts++;
        this.emit('client-abort');
      }
    });
    this.requests.push(recorded);
    this.emit('request', recorded);
    const scripted = this.scripts.get(recorded.path)?.shift();
    if (scripted === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (scripted === 'drop') {
      req.socket.destroy();
      return;
    }
    if (scripted) {
      writeScripted(res, scripted);
      return;
    }
    const handler = this.routes.get(`${recorded.method} ${recorded.path}`);
    if (!handler) {
      writeScripted(res, { status: 404, body: { error: { message: `no route ${recorded.method} ${recorded.path}`, type: 'invalid_request_error', param: null, code: null } } });
      return;
    }
    await handler(recorded, res);
  }
}

/** Writes a scripted status, headers and body. */
export function writeScripted(res: http.ServerResponse, answer: { status: number; body?: unknown; headers?: Record<string, string> }): void {
  const isText = typeof answer.body === 'string' || answer.body === undefined;
  res.writeHead(answer.status, { 'content-type': isText ? 'text/plain' : 'application/json', ...answer.headers });
  res.end(isText ? ((answer.body as string | undefined) ?? '') : JSON.stringify(answer.body));
}

async function record(req: http.IncomingMessage): Promise<RecordedRequest> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  const rawBody = Buffer.concat(parts);
  const url = new URL(req.url ?? '/', 'http://fake');
  const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody };
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    try {
      recorded.json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      recorded.json = undefined;
    }
  } else if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
    await parseForm(recorded, rawBody, type);
  }
  return recorded;
}

/** Parses a form body with the WHATWG `Response.formData()` parser (undici), as a server framework would. */
async function parseForm(recorded: RecordedRequest, rawBody: Buffer, type: string): Promise<void> {
  const fields: Record<string, string[]> = {};
  const files: Record<string, RecordedFile> = {};
  try {
    const form = await new Response(rawBody, { headers: { 'content-type': type } }).formData();
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') (fields[name] ??= []).push(value);
      else files[name] = { filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
    }
  } catch {
    // An unreadable form is recorded without fields; the route answers 400.
  }
  recorded.fields = fields;
  recorded.files = files;
}
