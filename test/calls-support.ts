import { WebSocket } from 'ws';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type TolkConfig } from '../src/config.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { verifyWebhookSignature } from '../src/domain/calls/webhooks.js';
import type { CallSession } from '../src/domain/calls/model.js';
import type { CallTelephony } from '../src/domain/calls/telephony.js';
import { createFakeEngines, type FakeEnginesOptions } from '../src/providers/testing/index.js';
import type { Engines } from '../src/providers/registry.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createScratchDatabase } from './helpers.js';

/**
 * A telephony provider that records what it is asked (the Twilio side has its own simulator tests):
 * `placeCall` answers a new CallSid, `hangUp` is recorded.
 */
export class StubTelephony implements CallTelephony {
  readonly type = 'twilio' as const;
  readonly placed: CallSession[] = [];
  readonly hungUp: string[] = [];
  async placeCall(session: CallSession): Promise<{ providerCallId: string }> {
    this.placed.push(session);
    return { providerCallId: `CA${String(this.placed.length).padStart(32, '0')}` };
  }
  async hangUp(providerCallId: string): Promise<void> {
    this.hungUp.push(providerCallId);
  }
}

/** A test server with fake engines, and an owner key of its default organization. */
/** A JSON answer as tests read it (fields are checked one by one). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface CallsTestServer extends RunningServer {
  apiKey: string;
  /** The telephony stand-in (unless the server was started with `telephony: false`). */
  telephony: StubTelephony;
  /** `fetch` against the server with the owner key (or `key`), JSON in and out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: Json; text: string }>;
  /** A key of another organization. */
  keyOf(org: string, role?: 'owner' | 'admin' | 'member'): Promise<string>;
}

/**
 * Starts Tolk on port 0 with fake engines (or `engines`) and `overrides`; `postgresUrl` puts it on a
 * scratch database of that server instead of PGlite.
 */
export async function startCallsServer(
  options: { overrides?: Partial<TolkConfig>; env?: NodeJS.ProcessEnv; engines?: Engines; fakes?: FakeEnginesOptions; postgresUrl?: string; telephony?: boolean } = {},
): Promise<CallsTestServer> {
  const scratch = options.postgresUrl ? await createScratchDatabase(options.postgresUrl) : undefined;
  // The legs speak tone bursts (the fake engines' speech), which the Silero VAD rightly ignores: the energy VAD endpoints them.
  const config = loadConfig(options.env ?? {}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', databaseUrl: scratch?.url, vad: 'energy', ...options.overrides });
  const server = await startServer(config, { engines: options.engines ?? createFakeEngines(options.fakes) });
  if (!server.firstOwnerKey) throw new Error('no owner key');
  const apiKey = server.firstOwnerKey;
  const close = server.close;
  const telephony = new StubTelephony();
  if (options.telephony !== false) server.ctx.telephony = telephony;
  return Object.assign(server, {
    apiKey, telephony,
    close: async () => {
      await close();
      await scratch?.drop();
    },
    call: async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    },
    keyOf: async (org: string, role: 'owner' | 'admin' | 'member' = 'member') => (await createApiKey(server.ctx.db, { organizationName: org, role })).key,
  });
}

/** A webhook delivery as the receiver saw it. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  body: Json;
  raw: string;
  signature: string;
}

/**
 * A webhook receiver on port 0 that verifies every delivery's `Kallglot-Signature` with `secret()`
 * (as the vendor's docs show a receiver doing) and records it; `failFirst(n)` answers 500 to the
 * first `n` deliveries of each event. An invalid signature is recorded in `badSignatures` and
 * answered 401.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly badSignatures: string[] = [];
  private readonly server: Server;
  private readonly attemptsByEvent = new Map<string, number>();
  private failures = 0;
  private waiters: Array<() => void> = [];
  secret = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The first `n` attempts of every event are answered 500. */
  failFirst(n: number): void {
    this.failures = n;
  }

  /** Resolves once `predicate` holds over what was received (re-checked on every delivery; `timeoutMs`, 10 s by default, at most). */
  async waitFor(predicate: (r: ReceivedWebhook[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`webhook receiver: timed out waiting for ${what}; got ${this.received.length}: ${this.received.slice(0, 20).map((r) => r.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const signature = String(req.headers['kallglot-signature'] ?? '');
    if (!verifyWebhookSignature(this.secret, signature, raw)) {
      this.badSignatures.push(signature);
      res.writeHead(401).end('bad signature');
      return;
    }
    const body = JSON.parse(raw) as { id: string; type: string };
    const n = (this.attemptsByEvent.get(body.id) ?? 0) + 1;
    this.attemptsByEvent.set(body.id, n);
    if (n <= this.failures) {
      res.writeHead(500, 'try again').end('try again');
      return;
    }
    this.received.push({ id: body.id, type: body.type, body, raw, signature });
    res.writeHead(200).end('ok');
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A stream socket client that keeps every JSON message and the close. */
export class StreamClient {
  readonly messages: Json[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')));
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  /** Connects to `url` (with `headers`) and waits for the socket to open. */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, { headers });
    const client = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Messages of `type`. */
  of(type: string): Json[] {
    return this.messages.filter((m) => m.type === type);
  }

  /** Resolves with the first message matching `predicate` (10 s at most). */
  async waitFor(predicate: (m: Json) => boolean, what: string): Promise<Json> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (this.closed) throw new Error(`stream closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.messages.map((m) => m.type).join(', ')}`);
      await this.next();
    }
  }

  /** Resolves when the socket has closed. */
  async waitClosed(): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + 10_000;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the close');
      await this.next();
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, 250).unref();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
