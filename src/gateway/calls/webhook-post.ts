import type { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DestinationRefusedError, guardedLookup, refusedUrlReason, type EgressPolicy } from '../../common/egress-policy.js';

/** Largest response head (status line and headers) read from an endpoint, in bytes. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Longest reason phrase kept from an endpoint's status line, in characters. */
const MAX_REASON_CHARS = 64;

/** What one POST to a webhook endpoint came to. */
export interface WebhookPostResult {
  /** The endpoint's HTTP status; null when no answer came. */
  statusCode: number | null;
  /**
   * Null for a 2xx; else `HTTP <status>: <reason phrase>` or the transport error
   * (`ECONNREFUSED`, `timeout after 30000 ms`, `destination refused: …`). Never the answer's body.
   */
  error: string | null;
  /** False when retrying cannot help (a refused destination). */
  retryable: boolean;
}

/**
 * POSTs `body` to `url` (docs/calls.md "Webhooks", docs/security.md "Outbound requests"): the
 * destination is checked against `policy` before connecting and on every resolved address; only the
 * status line is read — the answer's body never is, the connection is dropped once the status is
 * known — and the whole attempt is bounded by `timeoutMs`. Redirects are not followed.
 * `options.resolve` replaces DNS (tests).
 */
export function postWebhook(
  url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; policy: EgressPolicy; resolve?: typeof dnsLookup },
): Promise<WebhookPostResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ statusCode: null, error: 'invalid URL', retryable: false });
  }
  const refused = refusedUrlReason(options.policy, target);
  if (refused) return Promise.resolve({ statusCode: null, error: new DestinationRefusedError(refused).message, retryable: false });
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: WebhookPostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = send(target, {
      method: 'POST', agent: false, lookup: guardedLookup(options.policy, options.resolve), maxHeaderSize: MAX_HEADER_BYTES,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
    }, (res) => {
      const statusCode = res.statusCode ?? 0;
      const ok = statusCode >= 200 && statusCode < 300;
      const reason = (res.statusMessage ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, MAX_REASON_CHARS);
      res.destroy(); // the body is never read
      finish({ statusCode, error: ok ? null : `HTTP ${statusCode}${reason ? `: ${reason}` : ''}`, retryable: true });
    });
    const timer = setTimeout(() => finish({ statusCode: null, error: `timeout after ${options.timeoutMs} ms`, retryable: true }), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof DestinationRefusedError) finish({ statusCode: null, error: err.message, retryable: false });
      else finish({ statusCode: null, error: (err.code ?? err.name).slice(0, MAX_REASON_CHARS), retryable: true });
    });
    req.end(body);
  });
}
