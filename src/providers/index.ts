import type { EngineKind, EngineModule, EngineProviders, EngineRequestRecord, RoutedEngineKind } from './engine-module.js';
import { parseEnginesConfig, type ResolvedEngine } from './engine-config.js';
import { EngineNotInstalledError } from './engine-errors.js';
import { supportedPairs, type Engines } from './registry.js';
import { RoutedMt } from './routing/routed-mt.js';
import { RoutedStt } from './routing/routed-stt.js';
import { RoutedTts } from './routing/routed-tts.js';
import type { RoutedEngine } from './routing/route-order.js';

/** An engine instance a process runs, as the worker registry announces it. */
export interface EngineDescriptor {
  id: string;
  kind: EngineKind;
  /** Its module's name. */
  name: string;
}

/** The engines of a process behind their routers (docs/engines.md "Routing and fallback"). */
export interface RoutedEngines extends Engines {
  stt: RoutedStt;
  mt: RoutedMt;
  tts: RoutedTts;
  /** Every engine instance, in configuration order. */
  instances: readonly EngineDescriptor[];
}

/** Options of {@link createEngines}. */
export interface CreateEnginesOptions {
  /** Pre-load recognizers and MT pairs (default true). */
  prewarm?: boolean;
  /** pocketsphinx `idleDecoders` unless the configuration sets it (`TOLK_STT_IDLE_DECODERS`). */
  idleDecoders?: number;
  /**
   * False for a gateway (role `gateway`, docs/architecture.md "Processes"): workers recognize, so no recognizer is
   * pre-loaded or kept; MT and TTS stay (conversation rooms translate and speak at the gateway)
   * and language discovery is unchanged.
   */
  recognizers?: boolean;
  /** Every request attempt an engine reports (`/metrics` `tolk_engine_*`). */
  onRequest?: (record: EngineRequestRecord) => void;
  /** Where `{"env": "NAME"}` settings are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The modules names map to (default: every module of `modules.ts`). */
  modules?: readonly EngineModule[];
  /** Aborted when the process closes: engines give up capability discovery. */
  signal?: AbortSignal;
}

type Started = { engine: ResolvedEngine; provider: EngineProviders[EngineKind] };

/** Starts every engine of the plan; on any failure stops those started and throws one error for all. */
async function startAll(engines: readonly ResolvedEngine[], options: CreateEnginesOptions): Promise<Started[]> {
  const results = await Promise.allSettled(
    engines.map(async (engine) => ({
      engine,
      provider: await engine.module.create(engine.settings, { id: engine.id, onRequest: options.onRequest, signal: options.signal }),
    })),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ engine: engines[i], error: r.reason as unknown }] : []));
  if (failed.length === 0) return started;
  await Promise.all(started.map((s) => ('close' in s.provider ? s.provider.close().catch(() => undefined) : undefined)));
  const packages = failed.flatMap((f) => (f.error instanceof EngineNotInstalledError ? f.error.packages : []));
  if (failed.every((f) => f.error instanceof EngineNotInstalledError)) {
    throw new Error(`speech engines are not installed; run 'make start' or apt-get install ${packages.join(' ')}`);
  }
  const first = failed.find((f) => !(f.error instanceof EngineNotInstalledError)) ?? failed[0];
  const e = first?.engine;
  throw new Error(`engine "${e?.id}" (${e?.kind} ${e?.module.name}) failed to start: ${(first?.error as Error)?.message}`, { cause: first?.error });
}

function routedOf<K extends RoutedEngineKind>(started: readonly Started[], kind: K): RoutedEngine<EngineProviders[K]>[] {
  return started
    .filter((s) => s.engine.kind === kind)
    .map((s) => ({ id: s.engine.id, name: s.engine.module.name, provider: s.provider as EngineProviders[K] }));
}

/**
 * Starts the engines of a routing configuration (docs/engines.md "Configuration"; `undefined`:
 * the offline three — pocketsphinx, Apertium and espeak-ng from Debian packages, docs/architecture.md "Engines") behind
 * routed providers, and pre-loads one recognizer and every MT pair so the first stream does not
 * pay for start-up. `llm` engines are validated with the rest but not started here.
 * @param config - the parsed JSON/YAML of `TOLK_ENGINES` / `TOLK_ENGINES_FILE`, or undefined.
 * @throws {EnginesConfigError} naming the engine id and setting when the configuration is invalid.
 * @throws {Error} naming the missing Debian packages when offline engines are not installed, or
 *   the engine that failed to start.
 */
export async function createEngines(config: unknown, options: CreateEnginesOptions = {}): Promise<RoutedEngines> {
  const recognizers = options.recognizers !== false;
  const plan = parseEnginesConfig(config, {
    env: options.env ?? process.env,
    modules: options.modules,
    defaults: options.idleDecoders !== undefined ? { pocketsphinx: { idleDecoders: options.idleDecoders } } : undefined,
    overrides: recognizers ? undefined : { pocketsphinx: { idleDecoders: 0, spareDecoders: 0 } },
  });
  // `llm` engines are started by the calls surface that uses them (src/providers/llm/chat-engines.ts).
  const speech = plan.engines.filter((e) => e.kind !== 'llm');
  const started = await startAll(speech, options);
  const engines: RoutedEngines = {
    stt: new RoutedStt(routedOf(started, 'stt'), plan.routes.stt),
    mt: new RoutedMt(routedOf(started, 'mt'), plan.routes.mt),
    tts: new RoutedTts(routedOf(started, 'tts'), plan.routes.tts),
    instances: speech.map((e) => ({ id: e.id, kind: e.kind, name: e.module.name })),
  };
  if (options.prewarm !== false) {
    const pairs = supportedPairs(engines).filter((p) => p.source !== p.target);
    await Promise.all([recognizers ? engines.stt.prewarm(1) : undefined, engines.mt.prewarm(pairs)]);
  }
  return engines;
}

/**
 * Starts the offline engines (docs/architecture.md "Engines"): pocketsphinx, Apertium and espeak-ng from Debian
 * packages, each the only engine of its kind. {@link createEngines} without configuration.
 * @throws {Error} naming the missing Debian packages when an engine is not installed.
 */
export function createOfflineEngines(options: Omit<CreateEnginesOptions, 'modules'> = {}): Promise<RoutedEngines> {
  return createEngines(undefined, options);
}

/** Stops every engine process and frees pooled recognizers. */
export async function closeEngines(engines: Engines): Promise<void> {
  await Promise.all([engines.stt.close(), engines.mt.close()]);
}
