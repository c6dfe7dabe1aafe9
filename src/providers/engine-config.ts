import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { EngineKind, EngineModule, RoutedEngineKind } from './engine-module.js';
import { ENGINE_MODULES, engineModuleNames, findEngineModule } from './modules.js';

/** The routed kinds in the order a process builds them (`llm` engines have no routes: docs/engines.md). */
export const ENGINE_KINDS: readonly RoutedEngineKind[] = ['stt', 'mt', 'tts'];

/**
 * The engines of a process without configuration (docs/architecture.md "Engines"): pocketsphinx, Apertium and
 * espeak-ng, each with the module's name as its id. A kind a configuration leaves out gets its
 * engine from here.
 */
export const OFFLINE_ENGINES: readonly EngineInstanceConfig[] = [
  { id: 'pocketsphinx', kind: 'stt', name: 'pocketsphinx', settings: {} },
  { id: 'apertium', kind: 'mt', name: 'apertium', settings: {} },
  { id: 'espeak-ng', kind: 'tts', name: 'espeak-ng', settings: {} },
];

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const LANGUAGE_KEY = /^[a-z]{2,3}$/;
const PAIR_KEY = /^[a-z]{2,3}-[a-z]{2,3}$/;

const idList = z.array(z.string().regex(ID, 'an engine id')).min(1).max(50);
const routeTable = z.record(z.string(), idList);

/**
 * The routing configuration (docs/engines.md "Configuration"), as given in `TOLK_ENGINES` (JSON)
 * or the file `TOLK_ENGINES_FILE` (JSON, or YAML when the name ends in `.yaml`/`.yml`).
 */
export const enginesConfigSchema = z.strictObject({
  /** The speech engines (kinds `stt`, `mt`, `tts`); optional when `llm` is given (the offline three then). */
  engines: z
    .array(
      z.strictObject({
        id: z.string().regex(ID, 'lower-case letters, digits, ".", "_" or "-", at most 63'),
        kind: z.enum(['stt', 'mt', 'tts']),
        name: z.string().min(1).max(100),
        settings: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .min(1)
    .max(100)
    .optional(),
  /** The chat models (kind `llm`) of the calls surface's AI agent, tried in this order (docs/engines.md "Engines: openai-chat (LLM)"). */
  llm: z
    .array(
      z.strictObject({
        id: z.string().regex(ID, 'lower-case letters, digits, ".", "_" or "-", at most 63'),
        name: z.string().min(1).max(100),
        settings: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .min(1)
    .max(10)
    .optional(),
  routes: z.strictObject({ stt: routeTable.optional(), mt: routeTable.optional(), tts: routeTable.optional() }).default({}),
}).refine((c) => c.engines !== undefined || c.llm !== undefined, { path: ['engines'], message: 'required: 1–100 engine instances (or an llm list)' });

/** One configured engine instance before its settings are validated. */
export interface EngineInstanceConfig {
  /** Unique in the configuration; what routes, organizations and leg 2 name. */
  id: string;
  kind: EngineKind;
  /** The module's name (`pocketsphinx`, `openai`, …). */
  name: string;
  settings: Record<string, unknown>;
}

/** One engine instance ready to start: its module and its validated settings. */
export interface ResolvedEngine {
  id: string;
  kind: EngineKind;
  module: EngineModule;
  settings: unknown;
}

/** Per kind: route key (`default`, a language such as `es`, a pair such as `en-es`) → engine ids. */
export type EngineRouteTables = Record<RoutedEngineKind, Readonly<Record<string, readonly string[]>>>;

/** A validated routing configuration. */
export interface EnginesPlan {
  engines: ResolvedEngine[];
  routes: EngineRouteTables;
}

/** Options of {@link parseEnginesConfig}. */
export interface ParseEnginesOptions {
  /** Where `{"env": "NAME"}` settings are read; usually `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The modules names map to (default {@link ENGINE_MODULES}). */
  modules?: readonly EngineModule[];
  /** Per module name: settings under the configured ones (process defaults such as `TOLK_STT_IDLE_DECODERS`). */
  defaults?: Readonly<Record<string, Record<string, unknown>>>;
  /** Per module name: settings over the configured ones (a gateway loads no recognizer). */
  overrides?: Readonly<Record<string, Record<string, unknown>>>;
}

/** An invalid routing configuration; the message names the engine id and the setting at fault. */
export class EnginesConfigError extends Error {
  constructor(message: string) {
    super(`invalid engine configuration: ${message}`);
    this.name = 'EnginesConfigError';
  }
}

/**
 * Replaces every `{"env": "NAME"}` value (at any depth) by the environment variable's value, so a
 * configuration file holds no secret.
 * @throws {EnginesConfigError} naming the engine and setting when the variable is not set.
 */
export function resolveEnvReferences(value: unknown, env: NodeJS.ProcessEnv, where: { id: string; path: string }): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvReferences(v, env, { id: where.id, path: `${where.path}.${i}` }));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]?.[0] === 'env' && typeof entries[0][1] === 'string') {
    const name = entries[0][1];
    const v = env[name];
    if (v === undefined || v === '') throw new EnginesConfigError(`engine "${where.id}": setting "${where.path}": environment variable ${name} is not set`);
    return v;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveEnvReferences(v, env, { id: where.id, path: where.path ? `${where.path}.${k}` : k })]));
}

/** Validates one instance's settings with its module's schema. */
function resolveInstance(e: EngineInstanceConfig, options: ParseEnginesOptions): ResolvedEngine {
  const modules = options.modules ?? ENGINE_MODULES;
  const module = findEngineModule(e.kind, e.name, modules);
  if (!module) {
    throw new EnginesConfigError(`engine "${e.id}": unknown ${e.kind} engine "${e.name}"; known: ${engineModuleNames(e.kind, modules).join(', ') || 'none'}`);
  }
  const configured = resolveEnvReferences(e.settings, options.env ?? {}, { id: e.id, path: '' }) as Record<string, unknown>;
  const raw = { ...options.defaults?.[e.name], ...configured, ...options.overrides?.[e.name] };
  const parsed = module.settings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue && 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]).join('", "') : '';
    const path = issue?.path.join('.') || keys || '(settings)';
    throw new EnginesConfigError(`engine "${e.id}": setting "${path}": ${issue?.message ?? 'invalid'}`);
  }
  return { id: e.id, kind: e.kind, module, settings: parsed.data };
}

/** Checks each route key and that it names engines of its kind. */
function checkRoutes(kind: RoutedEngineKind, table: Record<string, string[]> | undefined, kinds: Map<string, EngineKind>): void {
  for (const [key, ids] of Object.entries(table ?? {})) {
    const keyOk = key === 'default' || (kind === 'mt' ? PAIR_KEY : LANGUAGE_KEY).test(key);
    if (!keyOk) {
      const expected = kind === 'mt' ? 'a pair of primary language subtags such as "en-es"' : 'a primary language subtag such as "es"';
      throw new EnginesConfigError(`routes.${kind}: key "${key}" is neither "default" nor ${expected}`);
    }
    for (const id of ids) {
      const k = kinds.get(id);
      if (k === undefined) throw new EnginesConfigError(`routes.${kind}.${key}: no engine has the id "${id}"`);
      if (k !== kind) throw new EnginesConfigError(`routes.${kind}.${key}: engine "${id}" is a ${k} engine, not ${kind}`);
    }
    if (new Set(ids).size !== ids.length) throw new EnginesConfigError(`routes.${kind}.${key}: an engine id is listed twice`);
  }
}

/**
 * Validates a routing configuration (docs/engines.md "Configuration"): its shape, unique ids,
 * known module names, every engine's settings (its module's zod schema, after `{"env": …}`
 * references are resolved) and the routes. A speech kind with no engine gets its offline engine
 * ({@link OFFLINE_ENGINES}); `llm` has none (no AI agent without one). `undefined` means no
 * configuration: the offline three.
 * @throws {EnginesConfigError} naming the engine id and the setting, or the route, at fault.
 */
export function parseEnginesConfig(raw: unknown, options: ParseEnginesOptions = {}): EnginesPlan {
  const shape = enginesConfigSchema.safeParse(raw ?? { engines: OFFLINE_ENGINES });
  if (!shape.success) {
    const issue = shape.error.issues[0];
    throw new EnginesConfigError(`${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`);
  }
  const configured: EngineInstanceConfig[] = [
    ...(shape.data.engines ?? []),
    ...(shape.data.llm ?? []).map((e) => ({ ...e, kind: 'llm' as const })),
  ];
  const kinds = new Map<string, EngineKind>();
  for (const e of configured) {
    if (kinds.has(e.id)) throw new EnginesConfigError(`engine id "${e.id}" is used twice`);
    kinds.set(e.id, e.kind);
  }
  const all = [...configured];
  for (const offline of OFFLINE_ENGINES) {
    if (configured.some((e) => e.kind === offline.kind)) continue;
    if (kinds.has(offline.id)) throw new EnginesConfigError(`engine id "${offline.id}" is used by a ${kinds.get(offline.id)} engine; the default ${offline.kind} engine needs it`);
    all.push(offline);
    kinds.set(offline.id, offline.kind);
  }
  for (const kind of ENGINE_KINDS) checkRoutes(kind, shape.data.routes[kind], kinds);
  return {
    engines: all.map((e) => resolveInstance(e, options)),
    routes: { stt: shape.data.routes.stt ?? {}, mt: shape.data.routes.mt ?? {}, tts: shape.data.routes.tts ?? {} },
  };
}

/**
 * Reads the routing configuration from `TOLK_ENGINES` (JSON text) or `TOLK_ENGINES_FILE` (a JSON
 * or YAML file); undefined when neither is set.
 * @throws {EnginesConfigError} when both are set, the file cannot be read or the text does not parse.
 */
export function readEnginesConfig(source: { json?: string | undefined; file?: string | undefined }): unknown {
  if (source.json && source.file) throw new EnginesConfigError('set TOLK_ENGINES or TOLK_ENGINES_FILE, not both');
  if (source.json) return parseText(source.json, 'TOLK_ENGINES', false);
  if (!source.file) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(source.file, 'utf8');
  } catch (err) {
    throw new EnginesConfigError(`TOLK_ENGINES_FILE ${source.file}: ${(err as Error).message}`);
  }
  return parseText(text, `TOLK_ENGINES_FILE ${source.file}`, /\.ya?ml$/i.test(source.file));
}

function parseText(text: string, where: string, yaml: boolean): unknown {
  try {
    return yaml ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw new EnginesConfigError(`${where}: ${(err as Error).message}`);
  }
}
