/** One running engine instance behind a routed provider. */
export interface RoutedEngine<P> {
  /** Its configured id. */
  id: string;
  /** Its module's name (`pocketsphinx`, `openai`, …). */
  name: string;
  provider: P;
}

/**
 * The order in which engines of one kind are tried for a route key (docs/engines.md "Routing and
 * fallback"): the key's own list, else `default`, else every engine in configuration order; then
 * only those that can serve the request (`serves`). Engines named in `preferred` (ids, or module
 * names standing for every instance of that module) come first when they can serve it.
 */
export function routeOrder<P>(
  engines: readonly RoutedEngine<P>[],
  routes: Readonly<Record<string, readonly string[]>>,
  key: string,
  serves: (engine: RoutedEngine<P>) => boolean,
  preferred: readonly string[] = [],
): RoutedEngine<P>[] {
  const ids = routes[key] ?? routes.default ?? engines.map((e) => e.id);
  const listed = ids.flatMap((id) => engines.filter((e) => e.id === id));
  const chosen = preferred.flatMap((p) => engines.filter((e) => e.id === p || e.name === p));
  const out: RoutedEngine<P>[] = [];
  for (const e of [...chosen, ...listed]) if (!out.includes(e) && serves(e)) out.push(e);
  return out;
}

/**
 * The routed provider's `name` (leg-2 `stt.provider`, …): the engine's id when one engine of the
 * kind runs (`pocketsphinx` without configuration, as before routing), else {@link ROUTED_PROVIDER}.
 */
export function routedName(engines: readonly RoutedEngine<unknown>[]): string {
  return engines.length === 1 && engines[0] ? engines[0].id : ROUTED_PROVIDER;
}

/** The provider name that asks a worker to route by its configuration, with no preferred engine. */
export const ROUTED_PROVIDER = 'auto';

/** An error for a request no engine could serve, naming each engine's failure. */
export function allFailedError(what: string, failures: ReadonlyArray<{ id: string; error: unknown }>): Error {
  if (failures.length === 0) return new Error(`no engine can ${what}`);
  const detail = failures.map((f) => `${f.id}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
  return new Error(`no engine could ${what} (${detail})`, { cause: failures[failures.length - 1]?.error });
}

/** What every routed provider tells about the engines behind it. */
export interface RoutedProviderInfo {
  /** The engine instances in configuration order. */
  readonly engineIds: readonly string[];
  /** Whether `provider` (an id or a module name, spec 002 Part 3 `*.provider`) names an engine it runs. */
  runs(provider: string): boolean;
}

/** {@link RoutedProviderInfo.runs} over a list of engines. */
export function runsEngine(engines: readonly RoutedEngine<unknown>[], provider: string): boolean {
  return engines.some((e) => e.id === provider || e.name === provider);
}
