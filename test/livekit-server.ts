import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers.js';

/** The livekit-server version `make livekit` builds (keep in step with the Makefile's `LIVEKIT_VERSION`). */
export const LIVEKIT_VERSION = 'v1.13.5';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The livekit-server binary: `LIVEKIT_SERVER_BIN`, else the one `make livekit` built into `.tools/`. */
export function liveKitServerBin(): string {
  return process.env.LIVEKIT_SERVER_BIN || path.join(repoRoot, '.tools', `livekit-${LIVEKIT_VERSION}`, 'livekit-server');
}

/**
 * Why the LiveKit tests cannot run here, or `false` when they can: the value for a `describe`'s
 * `skip`. Under `CI=true` a missing server is a failure, not a skip.
 * @throws {Error} under `CI=true` when the binary is missing.
 */
export function liveKitSkipReason(): string | false {
  const bin = liveKitServerBin();
  if (fs.existsSync(bin)) return false;
  const reason = `no livekit-server at ${bin} (run \`make livekit\`, or set LIVEKIT_SERVER_BIN)`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  return reason;
}

/** A `livekit-server --dev` of one test file, on loopback ports of its own. */
export interface TestLiveKitServer {
  /** `ws://127.0.0.1:<port>`: what clients connect to (also the server API's host). */
  url: string;
  /** `http://127.0.0.1:<port>`: for `livekit-server-sdk`'s service clients. */
  httpUrl: string;
  /** The `--dev` key pair (`devkey` / `secret`). */
  apiKey: string;
  apiSecret: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  close(): Promise<void>;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `livekit-server --dev` bound to 127.0.0.1 with its HTTP/WebSocket port, ICE/TCP port and
 * single UDP port all free loopback ports, and resolves once it answers HTTP. `webhookUrls`: where
 * it posts its room webhooks (signed with the `devkey` pair).
 * @throws {Error} when the binary is missing, exits, or does not answer within 20 s.
 */
export async function startLiveKitServer(options: { webhookUrls?: string[] } = {}): Promise<TestLiveKitServer> {
  const [httpPort, tcpPort, udpPort] = [await freePort(), await freePort(), await freeUdpPort()];
  const configBody = [
    `port: ${httpPort}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  tcp_port: ${tcpPort}`,
    `  udp_port: ${udpPort}`,
    '  use_external_ip: false',
    '  node_ip: 127.0.0.1',
    'logging:',
    '  level: warn',
    // LiveKit signs its webhooks with this key (docs/rooms.md "How the interpreter joins").
    ...(options.webhookUrls ? ['webhook:', '  api_key: devkey', '  urls:', ...options.webhookUrls.map((u) => `    - ${u}`)] : []),
  ].join('\n');
  const child = spawn(liveKitServerBin(), ['--dev', '--config-body', configBody], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`livekit-server exited (${code ?? signal}) before answering: ${stderr}`)));
  });
  exited.catch(() => {});
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await Promise.race([waitForHttp(httpUrl, 20_000), exited]);
  return {
    url: `ws://127.0.0.1:${httpPort}`,
    httpUrl,
    apiKey: 'devkey',
    apiSecret: 'secret',
    close: () => stop(child),
  };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`livekit-server did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}
