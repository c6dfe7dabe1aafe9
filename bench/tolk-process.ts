/**
 * `tolk serve` as its own process for the benchmarks: the server a user starts with `make start`
 * (embedded database in a fresh data directory, the engines of the environment), so a benchmark's
 * client work never counts as the server's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A running `tolk serve` process. */
export interface TolkProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The server's process id (for /proc/PID/smaps). */
  pid: number;
  /** The owner key of the default organization the fresh server created. */
  apiKey: string;
  /** CPU time of the server so far, in ms: its threads and the child processes (MT, TTS) it reaped. */
  cpuMs(): number;
  /** Resident memory of the server, in bytes. */
  rssBytes(): number;
  /** Resident and proportional memory of the server, in MB (`/proc/PID/smaps_rollup`). */
  memoryMb(): { rssMb: number; pssMb: number };
  /**
   * Waits until `/api/health/ready` answers 200 — for a server without that route (404: an older
   * build measured as the baseline), until its CPU settled — and returns the ms from spawning it.
   */
  ready(): Promise<number>;
  /** One sample of a `/metrics` gauge or counter without labels (NaN when absent). */
  metric(name: string): Promise<number>;
  /** Waits until the server used less than `maxShare` of one core over `windowMs` (recognizers loaded). */
  settled(windowMs?: number, maxShare?: number): Promise<void>;
  /** SIGTERM, then waits for exit; removes the data directory. */
  close(): Promise<void>;
}

const CLK_TCK_MS = 10; // USER_HZ is 100 on Linux

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/**
 * Starts `node bin/tolk.js serve` with `env` added to this process's environment.
 * @throws when the server does not print its owner key and answer `/health` within 120 s.
 */
export async function startTolkProcess(env: Record<string, string> = {}): Promise<TolkProcess> {
  const port = await freePort();
  const spawnedAtMs = performance.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-bench-'));
  const child = spawn(process.execPath, ['bin/tolk.js', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn', TOLK_DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const apiKey = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`tolk serve printed no key in 120 s: ${out.slice(-500)}`)), 120_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /API key[^\n]*\n\n\s+(\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`tolk serve exited with ${code}: ${out.slice(-500)}`)));
  });
  const stat = (): string[] => {
    const s = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  };
  const cpuMs = (): number => {
    const f = stat();
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * CLK_TCK_MS;
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) : NaN;
  };
  const settled = async (windowMs = 2000, maxShare = 0.1): Promise<void> => {
    for (let i = 0; i < 60; i++) {
      const before = cpuMs();
      await new Promise((r) => setTimeout(r, windowMs));
      if (cpuMs() - before < windowMs * maxShare) return;
    }
  };
  return {
    url, apiKey, cpuMs, metric, settled, pid: child.pid ?? 0,
    rssBytes: () => Number(stat()[21]) * 4096,
    memoryMb() {
      const text = fs.readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
      const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      return { rssMb: kb('Rss') / 1024, pssMb: kb('Pss') / 1024 };
    },
    async ready() {
      for (;;) {
        const status = await fetch(`${url}/api/health/ready`).then((r) => r.status, () => 0);
        if (status === 200) return performance.now() - spawnedAtMs;
        if (status === 404) {
          await settled(1000, 0.1);
          return performance.now() - spawnedAtMs;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
