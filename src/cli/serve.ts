import type { TolkConfig } from '../config.js';
import { startServer } from '../server.js';

/** `tolk serve`: starts the server; SIGTERM/SIGINT close it gracefully (live streams end, exit 0). */
export async function serveCommand(config: TolkConfig): Promise<void> {
  const server = await startServer(config, { adminSocket: true });
  const log = server.app.log;
  if (server.firstOwnerKey) {
    process.stdout.write(
      `\nA default organization was created. Its owner API key (shown once, keep it safe):\n\n  ${server.firstOwnerKey}\n\n`,
    );
  }
  log.info({ url: server.url, dataDir: config.dataDir, database: config.databaseUrl ? 'postgres' : 'pglite' }, 'tolk listening');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
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
