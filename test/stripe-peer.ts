import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/**
 * stripe-mock — Stripe's own API stand-in, which validates every request against Stripe's OpenAPI
 * spec (unknown or malformed parameters are 400) — as a real peer of the billing tests, behind a
 * recording proxy so the tests can assert what Tolk sent, field by field. The binary is built by
 * `make stripe-mock` into `.tools/` (or given as `STRIPE_MOCK_BIN`).
 */

/** Where the stripe-mock binary is: `STRIPE_MOCK_BIN`, else the Makefile's `.tools/` path. */
export const STRIPE_MOCK_BIN = process.env.STRIPE_MOCK_BIN ?? path.resolve(import.meta.dirname, '../.tools/stripe-mock-v0.203.0/stripe-mock');

/**
 * Why the stripe-mock tests cannot run here (`skip` reason), or false when they can. Under `CI=true`
 * a missing binary is a failure, not a skip.
 */
export function stripeMockMissing(): string | false {
  if (fs.existsSync(STRIPE_MOCK_BIN)) return false;
  const reason = `stripe-mock is not built (${STRIPE_MOCK_BIN}): run \`make stripe-mock\``;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

/** One request that reached Stripe through the proxy, and Stripe's answer. */
export interface RecordedStripeRequest {
  method: string;
  /** Path without the query string (`/v1/billing/meter_events`). */
  path: string;
  /** Query parameters, form-decoded (`{ customer: 'cus_…', limit: '24' }`). */
  query: Record<string, string>;
  /** Request headers, lower-case names. */
  headers: http.IncomingHttpHeaders;
  /** The `application/x-www-form-urlencoded` body decoded to flat keys (`payload[value]`). */
  form: Record<string, string>;
  status: number;
  /** Stripe's JSON answer. */
  response: unknown;
  /** True when the proxy cut the connection instead of passing the answer on. */
  dropped: boolean;
}

/** A running stripe-mock and its recording proxy. */
export interface StripePeer {
  /** The proxy's base URL, for `STRIPE_API_BASE`. */
  url: string;
  /** Every request so far, in arrival order. */
  requests: RecordedStripeRequest[];
  /**
   * The next `count` requests to paths starting with `pathPrefix` reach stripe-mock, but their
   * answers are not passed on: the connection is destroyed (a crash or a lost answer after Stripe
   * accepted the request).
   */
  dropAnswers(pathPrefix: string, count: number): void;
  /**
   * The next `count` requests to paths starting with `pathPrefix` are answered by the proxy itself
   * with `status` and Stripe's error body `{"error": {type, message}}`, as Stripe refuses a request
   * (e.g. 404 `No such customer`); they never reach stripe-mock.
   */
  refuseNext(pathPrefix: string, count: number, status: number, message: string): void;
  /** Calls resolve with recorded requests matching `predicate` once at least `n` exist. */
  waitFor(predicate: (r: RecordedStripeRequest) => boolean, n: number): Promise<RecordedStripeRequest[]>;
  close(): Promise<void>;
}

function formOf(text: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(text));
}

/** Starts stripe-mock on a free loopback port (HTTPS on a private Unix socket) and waits for it. */
async function spawnStripeMock(): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-stripe-mock-'));
  const child = spawn(STRIPE_MOCK_BIN, ['-http-addr', '127.0.0.1:0', '-https-unix', path.join(dir, 'https.sock')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /Listening for HTTP at address: 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`stripe-mock exited (${code}) before listening: ${out}`)));
    child.once('error', reject);
  });
  return { child, port, dir };
}

/** Starts stripe-mock and a recording proxy in front of it. */
export async function startStripePeer(): Promise<StripePeer> {
  const mock = await spawnStripeMock();
  const requests: RecordedStripeRequest[] = [];
  const drops: Array<{ prefix: string; left: number }> = [];
  const refusals: Array<{ prefix: string; left: number; status: number; message: string }> = [];
  const waiters: Array<() => void> = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://stripe.local');
      const refusal = refusals.find((r) => r.left > 0 && url.pathname.startsWith(r.prefix));
      if (refusal) {
        refusal.left--;
        const response = { error: { type: 'invalid_request_error', message: refusal.message } };
        requests.push({
          method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers,
          form: formOf(body.toString('utf8')), status: refusal.status, response, dropped: false,
        });
        for (const w of waiters.splice(0)) w();
        res.writeHead(refusal.status, { 'content-type': 'application/json', 'request-id': 'req_refused' });
        res.end(JSON.stringify(response));
        return;
      }
      const upstream = http.request({ host: '127.0.0.1', port: mock.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${mock.port}` } }, (up) => {
        const answer: Buffer[] = [];
        up.on('data', (c: Buffer) => answer.push(c));
        up.on('end', () => {
          const text = Buffer.concat(answer).toString('utf8');
          const drop = drops.find((d) => d.left > 0 && url.pathname.startsWith(d.prefix));
          if (drop) drop.left--;
          requests.push({
            method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers,
            form: formOf(body.toString('utf8')), status: up.statusCode ?? 0, response: text ? JSON.parse(text) : null, dropped: Boolean(drop),
          });
          for (const w of waiters.splice(0)) w();
          if (drop) {
            res.destroy();
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(text);
        });
      });
      upstream.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropAnswers: (prefix, count) => void drops.push({ prefix, left: count }),
    refuseNext: (prefix, count, status, message) => void refusals.push({ prefix, left: count, status, message }),
    waitFor: async (predicate, n) => {
      for (;;) {
        const found = requests.filter(predicate);
        if (found.length >= n) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      if (mock.child.exitCode === null) {
        const exited = new Promise<void>((resolve) => mock.child.once('exit', () => resolve()));
        mock.child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(mock.dir, { recursive: true, force: true });
    },
  };
}
