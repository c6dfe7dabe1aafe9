/**
 * The chat model of a process (docs/engines.md "Engines: openai-chat (LLM)"): the `llm` engines of
 * the routing configuration (`TOLK_ENGINES` / `TOLK_ENGINES_FILE`), tried in configuration order.
 * The deprecated `TOLK_LLM_*` variables (docs/calls.md "Settings") are a shorthand for one such
 * engine, added only when the configuration declares none. Only the calls surface's AI agent uses
 * it, so it is built there, not by `createEngines` (workers never start it).
 */
import { parseEnginesConfig, type ResolvedEngine } from '../engine-config.js';
import type { EngineModule, EngineRequestRecord } from '../engine-module.js';
import { allFailedError } from '../routing/route-order.js';
import type { ChatMessage, ChatModel, ChatOptions } from './types.js';

/** The deprecated `TOLK_LLM_*` variables, as parsed into the calls settings. */
export interface LlmShorthand {
  /** `TOLK_LLM_BASE_URL`; unset: no shorthand. */
  baseUrl: string | undefined;
  /** `TOLK_LLM_MODEL`. */
  model: string;
  /** `TOLK_LLM_API_KEY`. */
  apiKey: string | undefined;
  /** `TOLK_LLM_TIMEOUT_MS`: per attempt, in ms. */
  timeoutMs: number;
}

/** The engine id the `TOLK_LLM_*` shorthand runs under (`tolk_engine_*{engine="tolk-llm"}`). */
export const LLM_SHORTHAND_ID = 'tolk-llm';

/** What the `TOLK_LLM_*` shorthand did: `unset`, `used` (it is the engine) or `ignored` (the configuration has one). */
export type ShorthandUse = 'unset' | 'used' | 'ignored';

/** The `llm` list entry `TOLK_LLM_*` stands for (docs/engines.md "Engines: openai-chat (LLM)"). */
export function shorthandEngineEntry(s: LlmShorthand & { baseUrl: string }): Record<string, unknown> {
  return {
    id: LLM_SHORTHAND_ID, name: 'openai-chat',
    settings: { baseUrl: s.baseUrl, model: s.model, timeoutMs: s.timeoutMs, ...(s.apiKey ? { apiKey: s.apiKey } : {}) },
  };
}

function declaresLlm(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { llm?: unknown }).llm !== undefined;
}

/**
 * The routing configuration with the shorthand's engine as its `llm` list when `TOLK_LLM_BASE_URL`
 * is set and the configuration has no `llm` list (`undefined`: a configuration of that engine
 * alone, with the offline speech engines as usual). A configuration that is not an object is
 * returned as is, for {@link parseEnginesConfig} to refuse.
 */
export function withLlmShorthand(raw: unknown, shorthand: LlmShorthand | undefined): { config: unknown; shorthand: ShorthandUse } {
  if (!shorthand?.baseUrl) return { config: raw, shorthand: 'unset' };
  if (declaresLlm(raw)) return { config: raw, shorthand: 'ignored' };
  const llm = [shorthandEngineEntry({ ...shorthand, baseUrl: shorthand.baseUrl })];
  if (raw === undefined || typeof raw !== 'object' || raw === null) return { config: raw === undefined ? { llm } : raw, shorthand: raw === undefined ? 'used' : 'unset' };
  return { config: { ...raw, llm }, shorthand: 'used' };
}

/** Options of {@link createChatModel}. */
export interface ChatModelOptions {
  /** The deprecated `TOLK_LLM_*` shorthand, if any. */
  shorthand?: LlmShorthand | undefined;
  /** Where `{"env": "NAME"}` settings are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Every request attempt (`/metrics` `tolk_engine_*`). */
  onRequest?: (record: EngineRequestRecord) => void;
  /** Aborted when the process closes. */
  signal?: AbortSignal;
  /** The modules names map to (default: every module of `src/providers/modules.ts`). */
  modules?: readonly EngineModule[];
}

/** A process's chat model, and what became of the shorthand (for the start-up note). */
export interface ProcessChatModel {
  /** Undefined when no `llm` engine is configured: `ai_agent` and `help_chat_voice` answer 422. */
  model: ChatModel | undefined;
  shorthand: ShorthandUse;
}

/**
 * Validates the routing configuration (with the shorthand merged) and returns its `llm` engines as
 * one {@link ChatModel}; each engine starts at its first request.
 * @param raw - the parsed `TOLK_ENGINES` / `TOLK_ENGINES_FILE`, or undefined.
 * @throws {EnginesConfigError} naming the engine and setting at fault.
 */
export function createChatModel(raw: unknown, options: ChatModelOptions = {}): ProcessChatModel {
  const merged = withLlmShorthand(raw, options.shorthand);
  const plan = parseEnginesConfig(merged.config, { env: options.env ?? process.env, modules: options.modules });
  const llms = plan.engines.filter((e) => e.kind === 'llm');
  return { model: llms.length > 0 ? new ChatEngines(llms, options) : undefined, shorthand: merged.shorthand };
}

/** The `llm` engines in configuration order: the next one is tried when one fails. */
class ChatEngines implements ChatModel {
  readonly name: string;
  private readonly started = new Map<string, Promise<ChatModel>>();

  constructor(private readonly engines: readonly ResolvedEngine[], private readonly options: ChatModelOptions) {
    this.name = engines[0]?.module.name ?? 'none';
  }

  /** {@inheritDoc ChatModel.chat} */
  async chat(messages: readonly ChatMessage[], options: ChatOptions = {}): Promise<string> {
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const engine of this.engines) {
      try {
        return await (await this.start(engine)).chat(messages, options);
      } catch (error) {
        if (this.engines.length === 1 || options.signal?.aborted) throw error;
        failures.push({ id: engine.id, error });
      }
    }
    throw allFailedError('answer the chat', failures);
  }

  async close(): Promise<void> {
    await Promise.all([...this.started.values()].map(async (m) => (await m.catch(() => undefined))?.close()));
  }

  private start(engine: ResolvedEngine): Promise<ChatModel> {
    let model = this.started.get(engine.id);
    if (!model) {
      const context = { id: engine.id, onRequest: this.options.onRequest, signal: this.options.signal };
      model = engine.module.create(engine.settings, context) as Promise<ChatModel>;
      this.started.set(engine.id, model);
    }
    return model;
  }
}
