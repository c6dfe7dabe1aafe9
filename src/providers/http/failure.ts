import { EngineHttpError } from './engine-http-error.js';

/** The abort reason of an attempt that ran out of time (told apart from the caller aborting). */
export class TimeoutMarker extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
    this.name = 'TimeoutMarker';
  }
}

/** The system error code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …) somewhere in an error's causes. */
function systemCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Turns whatever a fetch attempt threw into an {@link EngineHttpError}: its own errors pass
 * through; a {@link TimeoutMarker} is a retryable `timeout`; anything after the caller's signal
 * aborted is a final `aborted`; the rest (refused, reset, DNS, TLS) is a retryable `network` error.
 */
export function classifyFailure(error: unknown, engine: string, method: string, url: string, caller: AbortSignal | undefined): EngineHttpError {
  if (error instanceof EngineHttpError) return error;
  if (error instanceof TimeoutMarker) {
    return new EngineHttpError({ engine, code: 'timeout', retryable: true, message: `${engine}: ${method} ${url}: ${error.message}`, cause: error });
  }
  if (caller?.aborted) {
    return new EngineHttpError({ engine, code: 'aborted', retryable: false, message: `${engine}: ${method} ${url} was aborted`, cause: error });
  }
  const code = systemCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new EngineHttpError({
    engine,
    code: 'network',
    retryable: true,
    message: `${engine}: ${method} ${url} failed: ${detail}${code ? ` (${code})` : ''}`,
    cause: error,
  });
}
