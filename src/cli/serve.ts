import type { TolkConfig } from '../config.js';
import { startServer } from '../server.js';
import { startWorker } from '../worker-server.js';

/**
 * `tolk serve [--role all|gateway|worker]`: starts the server (DESIGN §2); SIGTERM/SIGINT close it
 * gracefully (live streams finish their utterance in flight, then close 1001; exit 0). It logs
 * "tolk listening" as soon as it listens and "tolk ready" once the start-up work after listening is
 * done and streams are admitted (`/api/health/ready` answers 200; docs/deploy.md "Readiness").
 */
export async function serveCommand(config: TolkConfig): Promise<void> {
  let close: () => Promise<void>;
  let log: { info(o: object, m: string): void; error(o: object, m: string): void };
  if (config.role === 'worker') {
    const worker = await startWorker(config, { waitUntilReady: false });
    log = worker.app.log;
    log.info({ url: worker.url, leg2Url: worker.leg2Url, workerId: worker.workerId, role: 'worker' }, 'tolk worker listening');
    close = worker.close;
    void worker.ready.then(() => log.info({ url: worker.url, role: 'worker' }, 'tolk ready'));
  } else {
    const server = await startServer(config, { adminSocket: true, waitUntilReady: false });
    log = server.app.log;
    if (server.firstOwnerKey) {
      process.stdout.write(
        `\nA default organization was created. Its owner API key (shown once, keep it safe):\n\n  ${server.firstOwnerKey}\n\n`,
      );
    }
    log.info({ url: server.url, dataDir: config.dataDir, database: config.databaseUrl ? 'postgres' : 'pglite', role: config.role }, 'tolk listening');
    close = server.close;
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
