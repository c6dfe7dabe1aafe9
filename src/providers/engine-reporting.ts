import type { EngineContext, EngineKind } from './engine-module.js';

/**
 * Runs one request of an engine and reports it through `context.onRequest` (`/metrics`
 * `tolk_engine_*`, docs/engines.md "Routing and fallback"): `ok` with its wall time when it
 * resolves, `error` when it throws (the error is rethrown). Without a callback it only runs it.
 * Offline engines use it for what stands for a request: an utterance's final (pocketsphinx), a
 * translation (Apertium), speech up to its first block (espeak-ng).
 */
export async function reportedRequest<T>(context: EngineContext | undefined, kind: EngineKind, attempt: () => Promise<T>): Promise<T> {
  const onRequest = context?.onRequest;
  if (!context || !onRequest) return attempt();
  const startedAt = performance.now();
  try {
    const result = await attempt();
    onRequest({ engine: context.id, kind, outcome: 'ok', durationMs: performance.now() - startedAt });
    return result;
  } catch (err) {
    onRequest({ engine: context.id, kind, outcome: 'error', durationMs: performance.now() - startedAt });
    throw err;
  }
}
