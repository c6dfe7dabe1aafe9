import assert from 'node:assert/strict';
import type { lookup as dnsLookup } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseEgressPolicy, refusedUrlReason } from '../src/common/egress-policy.js';
import { ensureOrganization } from '../src/domain/api-keys.js';
import { recordWebhookEvent } from '../src/domain/calls/webhooks.js';
import { jitteredDelayMs } from '../src/gateway/calls/webhook-delivery.js';
import { postWebhook } from '../src/gateway/calls/webhook-post.js';
import { startCallsServer, WebhookReceiver, type CallsTestServer, type Json } from './calls-support.js';

/** An endpoint whose behaviour a test sets; counts requests open at once. */
class ScriptedEndpoint {
  open = 0;
  maxOpen = 0;
  requests = 0;
  /** Bytes of answer body written per request, settled when the connection closes. */
  readonly bodyBytesWritten: number[] = [];
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(204).end();
  private readonly server: Server = createServer((req, res) => {
    this.requests++;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    req.socket.once('close', () => this.open--);
    req.resume();
    req.on('end', () => this.handler(req, res));
  });
  private readonly closeWaiters: Array<() => void> = [];

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  /** Answers 500 and writes body bytes as fast as the peer reads them, up to `capBytes`. */
  streamEndlessBody(capBytes: number): void {
    this.handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let written = 0;
      const pump = (): void => {
        while (written < capBytes && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        this.bodyBytesWritten.push(written);
        for (const w of this.closeWaiters.splice(0)) w();
      });
      pump();
    };
  }
  async waitForClosedAnswers(n: number): Promise<void> {
    while (this.bodyBytesWritten.length < n) await new Promise<void>((r) => this.closeWaiters.push(r));
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function eventsOf(server: CallsTestServer, sessionId: string): Promise<Json[]> {
  return (await server.call('GET', `/v1/webhook_events?session_id=${sessionId}`)).json.data as Json[];
}

/** Polls the attempt log (each poll is a request to the server) until `done` holds; 15 s at most. */
async function waitForEvent(server: CallsTestServer, sessionId: string, done: (e: Json) => boolean): Promise<Json> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const event = (await eventsOf(server, sessionId))[0];
    if (event && done(event)) return event;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(event)}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('webhook destinations (SSRF) and the answers of endpoints', () => {
  let strict: CallsTestServer;
  before(async () => {
    strict = await startCallsServer();
  });
  after(async () => {
    await strict.close();
  });

  const refused = [
    'http://127.0.0.1:6379/', 'http://localhost:8080/x', 'http://[::ffff:127.0.0.1]/', 'http://0x7f000001/', 'http://2130706433/', 'http://127.1/',
    'http://169.254.169.254/latest/meta-data/', 'http://[fd00::1]/', 'http://10.0.0.1:6379/', 'http://metadata.google.internal/computeMetadata/v1/',
    'http://192.168.1.10/', 'http://172.16.0.1/', 'http://[::1]:9000/', 'http://[fe80::1]/', 'http://0.0.0.0:5432/', 'https://app.localhost/',
  ];

  it('refuses loopback, private, link-local, unique-local and metadata destinations when a call is created, in the calls error shape', async () => {
    for (const url of refused) {
      const res = await strict.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: url });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.equal(res.json.error.code, 'webhook_url_forbidden', url);
      assert.equal(res.json.error.type, 'validation_error');
      assert.equal(res.json.error.param, 'webhook_url');
      assert.match(res.json.error.message, /TOLK_WEBHOOK_ALLOW_HOSTS/);
    }
    const publicHost = await strict.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: 'https://hooks.example.com/tolk' });
    assert.equal(publicHost.status, 201, publicHost.text);
  });

  it('refuses the same destinations for the organization\'s endpoint', async () => {
    for (const url of ['http://127.0.0.1:5432/', 'http://169.254.169.254/', 'http://[::ffff:7f00:1]/']) {
      const res = await strict.call('POST', '/v1/webhook_endpoints', { url });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.equal(res.json.error.code, 'webhook_url_forbidden');
      assert.equal(res.json.error.param, 'url');
    }
    assert.equal((await strict.call('POST', '/v1/webhook_endpoints', { url: 'https://hooks.example.com/x' })).status, 200);
    assert.equal((await strict.call('POST', '/v1/webhook_endpoints', { url: null })).status, 200);
  });

  it('checks the address a name resolves to at connect time (DNS rebinding), and the allow-list opens hosts and ranges', async () => {
    const endpoint = new ScriptedEndpoint();
    await endpoint.listen();
    try {
      const toLoopback = ((_host: string, _opts: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof dnsLookup;
      const url = `http://hooks.example.com:${endpoint.port}/hook`;
      assert.equal(refusedUrlReason(parseEgressPolicy(''), new URL(url)), undefined, 'the name passes when stored');
      const blocked = await postWebhook(url, '{}', {}, { timeoutMs: 2000, policy: parseEgressPolicy(''), resolve: toLoopback });
      assert.equal(blocked.statusCode, null);
      assert.equal(blocked.retryable, false);
      assert.match(blocked.error ?? '', /^destination refused: hooks\.example\.com resolves to 127\.0\.0\.1, a loopback address/);
      assert.equal(endpoint.requests, 0, 'nothing reached the loopback endpoint');
      for (const allow of ['127.0.0.0/8', 'hooks.example.com']) {
        const sent = await postWebhook(url, '{}', {}, { timeoutMs: 2000, policy: parseEgressPolicy(allow), resolve: toLoopback });
        assert.deepEqual(sent, { statusCode: 204, error: null, retryable: true }, allow);
      }
      assert.equal(endpoint.requests, 2);
      assert.throws(() => parseEgressPolicy('10.0.0.0/99'), /bad prefix length/);
      assert.throws(() => parseEgressPolicy('http://x'), /not a host name/);
    } finally {
      await endpoint.close();
    }
  });

  describe('with loopback allowed', () => {
    let server: CallsTestServer;
    const endpoint = new ScriptedEndpoint();
    let hookUrl: string;
    before(async () => {
      hookUrl = await endpoint.listen();
      server = await startCallsServer({
        env: { TOLK_CALLS_RATE_LIMIT_PER_MIN: '100000', TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', TOLK_WEBHOOK_MAX_ATTEMPTS: '1', TOLK_WEBHOOK_TIMEOUT_MS: '1500', TOLK_WEBHOOK_CONCURRENCY: '3' },
      });
    });
    after(async () => {
      await server.close();
      await endpoint.close();
    });

    it('keeps the status and reason phrase of a failed attempt, never the answer\'s body', async () => {
      endpoint.handler = (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('INTERNAL-ONLY db_password=hunter2');
      const s = (await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: hookUrl })).json;
      const event = await waitForEvent(server, s.id, (e) => e.status === 'failed');
      assert.equal(event.last_error, 'HTTP 500: Internal Server Error');
      assert.equal(event.delivery_attempts[0].error, 'HTTP 500: Internal Server Error');
      assert.doesNotMatch(JSON.stringify(event), /db_password|INTERNAL-ONLY/);
    });

    it('reads none of a huge answer: the connection is dropped once the status is known', async () => {
      const capBytes = 256 * 1024 * 1024;
      endpoint.streamEndlessBody(capBytes);
      const s = (await server.call('POST', '/v1/sessions', { mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: hookUrl })).json;
      const event = await waitForEvent(server, s.id, (e) => e.status === 'failed');
      assert.equal(event.last_error, 'HTTP 500: Internal Server Error');
      await endpoint.waitForClosedAnswers(1);
      const written = endpoint.bodyBytesWritten[0] ?? capBytes;
      assert.ok(written < 16 * 1024 * 1024, `the endpoint could write ${written} bytes (socket buffers only), not the whole ${capBytes}`);
    });

    it('holds at most TOLK_WEBHOOK_CONCURRENCY connections to a hanging endpoint at once', async () => {
      endpoint.handler = () => undefined; // never answers: each attempt ends at the 1.5 s timeout
      endpoint.maxOpen = 0;
      const sessions = await Promise.all(Array.from({ length: 9 }, async () => (await server.call('POST', '/v1/sessions', {
        mode: 'bidirectional_translation', source_language: 'de', target_language: 'en', webhook_url: hookUrl,
      })).json));
      for (const s of sessions) {
        const event = await waitForEvent(server, s.id, (e) => e.status === 'failed');
        assert.match(event.last_error, /^timeout after 1500 ms$/);
      }
      assert.ok(endpoint.maxOpen >= 2, `attempts ran side by side (${endpoint.maxOpen})`);
      assert.ok(endpoint.maxOpen <= 3, `at most 3 connections at once, saw ${endpoint.maxOpen}`);
    });
  });
});

describe('webhook recovery and retries', () => {
  it('recovers every pending event at start, page after page (600 > one page of 500)', async () => {
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.listen();
    const server = await startCallsServer({ env: { TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } });
    try {
      receiver.secret = (await server.call('GET', '/v1/webhook_endpoints')).json.data[0].secret;
      const organizationId = (await ensureOrganization(server.ctx.db, 'default')).id;
      for (let i = 0; i < 600; i++) {
        await recordWebhookEvent(server.ctx.db, { organizationId, sessionId: null, type: 'session.created', data: { n: i }, url: hookUrl });
      }
      const scheduled = await server.ctx.callSessions?.webhooks.recover();
      assert.equal(scheduled, 600);
      // 600 signed deliveries, each recorded in the database: a bound for a loaded machine, not a timing claim.
      await receiver.waitFor((r) => new Set(r.map((e) => e.id)).size === 600, '600 events', 90_000);
      assert.equal(receiver.received.length, 600, 'each event delivered once');
    } finally {
      await server.close();
      await receiver.close();
    }
  });

  it('spreads retry delays by ±25 % at random', () => {
    assert.equal(jitteredDelayMs(1000, () => 0), 750);
    assert.equal(jitteredDelayMs(1000, () => 0.5), 1000);
    assert.equal(jitteredDelayMs(1000, () => 0.999), 1250);
    const delays = new Set(Array.from({ length: 50 }, () => jitteredDelayMs(60_000)));
    assert.ok(delays.size > 10, 'retries of events that failed together are spread');
  });
});
