import type { EngineKind } from './engine-module.js';
import { enginesConfigSchema, OFFLINE_ENGINES, readEnginesConfig } from './engine-config.js';

/** An engine instance as the console lists it (docs/platform.md "Operations"): never its settings. */
export interface ListedEngine {
  id: string;
  kind: EngineKind;
  /** Its module's name (`pocketsphinx`, `openai`, …). */
  name: string;
  /** The route keys whose list names it (`en-es`, `fr`, `default`), in configuration order. */
  routes: string[];
}

/**
 * The engines of the routing configuration (`TOLK_ENGINES` or `TOLK_ENGINES_FILE`, docs/engines.md
 * "Configuration"), with the offline engine of each speech kind the configuration leaves out, and
 * the routes that name each. Only ids, kinds, module names and route keys are read: settings (API
 * keys, URLs with credentials) never leave this function. A configuration that does not parse
 * (the process would not have started with it) lists the offline engines.
 */
export function configuredEngines(source: { json?: string | undefined; file?: string | undefined }): ListedEngine[] {
  let raw: unknown;
  try {
    raw = readEnginesConfig(source);
  } catch {
    raw = undefined;
  }
  const parsed = enginesConfigSchema.safeParse(raw ?? { engines: OFFLINE_ENGINES });
  const config = parsed.success ? parsed.data : { engines: [...OFFLINE_ENGINES], llm: undefined, routes: {} };
  const listed: ListedEngine[] = [
    ...(config.engines ?? []).map((e) => ({ id: e.id, kind: e.kind as EngineKind, name: e.name, routes: [] as string[] })),
    ...(config.llm ?? []).map((e) => ({ id: e.id, kind: 'llm' as EngineKind, name: e.name, routes: [] as string[] })),
  ];
  for (const offline of OFFLINE_ENGINES) {
    if (!listed.some((e) => e.kind === offline.kind)) listed.push({ id: offline.id, kind: offline.kind, name: offline.name, routes: [] });
  }
  const routes = config.routes as Partial<Record<string, Record<string, readonly string[]>>>;
  for (const engine of listed) {
    for (const [key, ids] of Object.entries(routes[engine.kind] ?? {})) if (ids.includes(engine.id)) engine.routes.push(key);
  }
  return listed;
}
