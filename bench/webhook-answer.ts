/**
 * What one webhook attempt costs against an endpoint that answers 500 with an endless body
 * (docs/security.md "Outbound requests"), loopback only: the earlier way of reading the answer
 * (`fetch` + `res.text()`, bounded only by the attempt's timeout) as the baseline, and Tolk's
 * `postWebhook` (status line only, connection dropped), measured in the same run. Prints, for each,
 * the bytes the endpoint could write, the resident memory growth and the attempt's duration, and the
 * ratios (Tolk's first, so the baseline's heap does not hide its growth). Bounded: the endpoint writes at most 256 MiB per attempt; each attempt has a 5 s timeout.
 * Usage: node --import tsx bench/webhook-answer.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEgressPolicy } from '../src/common/egress-policy.js';
import { postWebhook } from '../src/gateway/calls/webhook-post.js';

const CAP_BYTES = 256 * 1024 * 1024;
const TIMEOUT_MS = 5000;
let written = 0;
let closed: () => void = () => undefined;

const server = createServer((req, res) => {
  req.resume();
  written = 0;
  res.writeHead(500, { 'content-type': 'text/plain' });
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const pump = (): void => {
    while (written < CAP_BYTES && !res.destroyed) {
      written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => closed());
  pump();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

async function measure(label: string, attempt: () => Promise<string>): Promise<{ bytes: number; rssMb: number; ms: number }> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const done = new Promise<void>((r) => (closed = r));
  const started = performance.now();
  const outcome = await attempt();
  const ms = performance.now() - started;
  await done;
  clearInterval(sampler);
  const result = { bytes: written, rssMb: (peak - rss0) / 1048576, ms };
  console.log(`${label.padEnd(34)} endpoint wrote ${(result.bytes / 1048576).toFixed(1).padStart(6)} MiB, RSS +${result.rssMb.toFixed(1).padStart(6)} MB, ${result.ms.toFixed(0).padStart(5)} ms → ${outcome.slice(0, 40)}`);
  return result;
}

const tolk = await measure('postWebhook (status line only)', async () => {
  const r = await postWebhook(url, '{}', {}, { timeoutMs: TIMEOUT_MS, policy: parseEgressPolicy('127.0.0.1') });
  return r.error ?? 'delivered';
});
const baseline = await measure('fetch + res.text() (baseline)', async () => {
  try {
    const res = await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(TIMEOUT_MS) });
    return `HTTP ${res.status}: ${(await res.text()).length} characters read`;
  } catch (err) {
    return (err as Error).name;
  }
});
console.log(`ratios postWebhook / baseline: bytes ${(tolk.bytes / baseline.bytes).toFixed(4)}, RSS growth ${(tolk.rssMb / Math.max(0.1, baseline.rssMb)).toFixed(3)}, time ${(tolk.ms / baseline.ms).toFixed(3)}`);
server.closeAllConnections();
server.close();
