import type { FastifyBaseLogger } from 'fastify';

/**
 * Errors `@livekit/rtc-node`'s native bindings throw outside any call Tolk made: a native handle
 * dropped twice when the garbage collector finalizes its JS wrapper ("trying to drop an invalid
 * handle", code `GenericFailure`). They surface as uncaught exceptions, with no room to blame, and
 * by Node's default would end the process with every room and stream in it (docs/rooms.md
 * "Limits", docs/security.md).
 */
export function isLiveKitNativeError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'GenericFailure' && /\binvalid handle\b/.test(err.message);
}

let installed: ((err: unknown) => void) | undefined;

/**
 * Keeps the process running through {@link isLiveKitNativeError} errors: each is logged (warn) and
 * counted by `onNativeError`. Every other uncaught exception still ends the process as Node would
 * (logged as fatal, exit code 1). Installed once per process; later calls replace the logger.
 * @returns a function that removes the guard.
 */
export function guardLiveKitNativeErrors(log: FastifyBaseLogger, onNativeError: () => void = () => {}): () => void {
  if (installed) process.off('uncaughtException', installed);
  const handler = (err: unknown): void => {
    if (isLiveKitNativeError(err)) {
      log.warn({ err }, 'LiveKit native error outside any room call (kept running)');
      onNativeError();
      return;
    }
    log.fatal({ err }, 'uncaught exception');
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  installed = handler;
  process.on('uncaughtException', handler);
  return () => {
    process.off('uncaughtException', handler);
    if (installed === handler) installed = undefined;
  };
}
