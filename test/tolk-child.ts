/**
 * `tolk serve` as a child process on a data dir the test keeps, so a test can `kill -9` it and
 * start it again on the same files (docs/calls.md "Restarts").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './helpers.js';

/** A running child server. */
export interface TolkChild {
  url: string;
  port: number;
  /** The owner key the first start on a fresh data dir printed (empty on a later start). */
  apiKey: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `tolk serve` (from the sources) on `dataDir` with `env` added (webhooks to 127.0.0.1 allowed);
 * waits until `/api/health/ready`
 * answers (and, on a fresh data dir, the owner key is printed).
 * @throws when it does not come up within 90 s.
 */
export async function startTolkChild(dataDir: string, env: Record<string, string> = {}, fresh = true): Promise<TolkChild> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'warn', TOLK_STT_IDLE_DECODERS: '1', TOLK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (gone) throw new Error(`tolk serve exited: ${out.slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`tolk serve did not come up: ${out.slice(-1500)}`);
    const healthy = await fetch(`${url}/api/health/ready`).then((r) => r.ok, () => false);
    if (healthy && (!fresh || /ip_live_\w{32}/.test(out))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stopWith = async (signal: NodeJS.Signals) => {
    if (!gone) child.kill(signal);
    await exited;
  };
  return { url, port, apiKey: /ip_live_\w{32}/.exec(out)?.[0] ?? '', child, exited, kill9: () => stopWith('SIGKILL'), stop: () => stopWith('SIGTERM') };
}
