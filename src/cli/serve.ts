import { createRequire } from 'node:module';
import path from 'node:path';
import type { TolkConfig } from '../config.js';
import { startServer } from '../server.js';
import { startWorker } from '../worker-server.js';
import { recordRunningServer } from './running-servers.js';

/**
 * The first owner key as a block that stands out between log lines: framed, the key alone on its
 * line, with what to do with it.
 */
export function ownerKeyBlock(key: string): string {
  const rule = '='.repeat(72);
  return [
    '', rule,
    '  A default organization was created. Its OWNER API key (shown once, keep it safe):', '',
    `    ${key}`, '',
    '  Use it as "Authorization: Bearer <key>" on /api, or: export TOLK_API_KEY=<key>',
    '  More keys: tolk keys create --org <name>   (tolk keys list shows them)',
    rule, '', '',
  ].join('\n');
}

/**
 * Puts `@livekit/rtc-node`'s own logger (`lk-rtc`, debug unless NODE_ENV=production) at Tolk's
 * `LOG_LEVEL`, so its debug lines do not show at info. Its package exports no logger: the module is
 * reached by path, through the same require cache the package itself uses.
 */
function alignLiveKitLogLevel(level: string): void {
  try {
    const require = createRequire(import.meta.url);
    const index = require.resolve('@livekit/rtc-node');
    const { log } = require(path.join(path.dirname(index), 'log.cjs')) as { log: { level: string } };
    log.level = level;
  } catch {
    // another layout of the package: its default stays
  }
}

/**
 * `tolk serve [--role all|gateway|worker]`: starts the server (docs/architecture.md "Processes"); SIGTERM/SIGINT close it
 * gracefully (live streams finish their utterance in flight, then close 1001; exit 0). It logs
 * "tolk listening" as soon as it listens and "tolk ready" once the start-up work after listening is
 * done and streams are admitted (`/api/health/ready` answers 200; docs/deploy.md "Readiness").
 */
export async function serveCommand(config: TolkConfig): Promise<void> {
  alignLiveKitLogLevel(config.logLevel);
  let close: () => Promise<void>;
  let log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  if (config.role === 'worker') {
    const worker = await startWorker(config, { waitUntilReady: false });
    log = worker.app.log;
    log.info({ url: worker.url, leg2Url: worker.leg2Url, workerId: worker.workerId, role: 'worker' }, 'tolk worker listening');
    close = worker.close;
    void worker.ready.then(() => log.info({ url: worker.url, role: 'worker' }, 'tolk ready'));
  } else {
    const server = await startServer(config, { adminSocket: true, waitUntilReady: false });
    log = server.app.log;
    if (server.firstOwnerKey) process.stdout.write(ownerKeyBlock(server.firstOwnerKey));
    const database = config.databaseUrl ? 'postgres' : 'pglite';
    log.info({ url: server.url, dataDir: config.dataDir, database, role: config.role }, 'tolk listening');
    if (!config.calls.publicUrl) {
      log.warn({ url: server.url, trustProxy: config.trustProxy },
        'TOLK_PUBLIC_URL is not set: links and QR codes carry the address each request reached (a phone cannot open 127.0.0.1 or localhost ones); docs/deploy.md "TLS"');
    }
    // So `tolk keys …` run from another folder finds this server's data (docs/operations.md "Data dir").
    const unrecord = recordRunningServer({ dataDir: config.dataDir, url: server.url, database });
    close = async () => {
      unrecord();
      await server.close();
    };
    const startedAtMs = performance.now();
    void server.ready.then(() => log.info({ url: server.url, readyAfterMs: Math.round(performance.now() - startedAtMs), role: config.role }, 'tolk ready'));
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
