/**
 * The shape of one engine module (docs/architecture.md "Engines", issue "engines"): every engine, offline or remote, is
 * one file under `src/providers/<kind>/<name>.ts` that exports an {@link EngineModule}. The module
 * says what it is (`kind`, `name`), what it can be configured with (a zod schema of its settings)
 * and how to start it (`create`, which discovers the engine's capabilities — languages, voices,
 * interim support, vocabulary support, who endpoints). Routing, fallback and the per-organization
 * choice live outside the modules, so adding an engine touches no core file.
 */
import type { z } from 'zod';
import type { ChatModel } from './llm/types.js';
import type { MtProvider } from './mt/types.js';
import type { SttProvider } from './stt/types.js';
import type { TtsProvider } from './tts/types.js';

/** The kinds of engine a stream uses (spec 002 Part 3 `stt`, `translator`, `tts`), routed per language. */
export type RoutedEngineKind = 'stt' | 'mt' | 'tts';

/**
 * Every kind of engine: the routed speech kinds and `llm`, the chat model of the calls surface's AI
 * agent (docs/engines.md "Engines: openai-chat (LLM)"), which streams and workers never use.
 */
export type EngineKind = RoutedEngineKind | 'llm';

/** The provider interface each kind implements. */
export interface EngineProviders {
  stt: SttProvider;
  mt: MtProvider;
  tts: TtsProvider;
  llm: ChatModel;
}

/** One request an engine made to its server, as `/metrics` counts it (`tolk_engine_*{engine}`). */
export interface EngineRequestRecord {
  /** The engine instance's id (its configured `id`, or its `name`). */
  engine: string;
  kind: EngineKind;
  /** `ok`, `error` (gave up) or `retry` (an attempt that is tried again). */
  outcome: 'ok' | 'error' | 'retry';
  /** Wall time of the attempt, in ms. */
  durationMs: number;
}

/** What the process gives an engine when it starts it. */
export interface EngineContext {
  /** The engine instance's id: its configured `id`, or its `name` when it runs once. */
  id: string;
  /** Called once per request attempt, for `/metrics`. */
  onRequest?: (record: EngineRequestRecord) => void;
  /** Aborted when the process closes; `create` gives up capability discovery then. */
  signal?: AbortSignal;
}

/**
 * An engine module. `S` is its settings schema (zod): the routing configuration's `settings`
 * object for this engine is parsed with it before `create` runs, so `create` sees typed settings.
 */
export interface EngineModule<K extends EngineKind = EngineKind, S extends z.ZodType = z.ZodType> {
  kind: K;
  /** The provider name spec 002 Part 3 carries (`stt.provider`, `translator.provider`, `tts.provider`). */
  name: string;
  /** One line for `tolk engines` and docs/engines.md. */
  description: string;
  settings: S;
  /**
   * Starts the engine and discovers what it can do.
   * @throws {Error} naming the setting or server at fault when the engine cannot start.
   */
  create(settings: z.output<S>, context: EngineContext): Promise<EngineProviders[K]>;
}

/** Declares an engine module with its settings type inferred from the schema. */
export function defineEngine<K extends EngineKind, S extends z.ZodType>(module: EngineModule<K, S>): EngineModule<K, S> {
  return module;
}
