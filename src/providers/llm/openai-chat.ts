/**
 * The `openai-chat` LLM engine (docs/engines.md "Engines: openai-chat (LLM)"): an OpenAI-compatible
 * chat model that answers a conversation, for the calls surface's AI agent (docs/calls.md "Modes").
 * Same client as the `openai-chat` translator ({@link requestChatCompletion}), so the same retries,
 * timeouts and `/metrics` records (`tolk_engine_*{engine="<id>"}`).
 */
import { z } from 'zod';
import { defineEngine, type EngineContext } from '../engine-module.js';
import type { HttpEngineClient } from '../http/http-engine-client.js';
import { httpClientFor, httpEngineSettingsShape } from '../http/http-settings.js';
import { requestChatCompletion } from './chat-completions.js';
import type { ChatMessage, ChatModel, ChatOptions } from './types.js';

/** Settings of the `openai-chat` LLM engine (docs/engines.md "Engines: openai-chat (LLM)"). */
export const openaiChatLlmSettings = z.strictObject({
  ...httpEngineSettingsShape,
  /** Longest wait for a reply, per attempt, in ms (a chat model takes longer than a translation: 30 s). */
  timeoutMs: z.number().int().min(50).max(600_000).default(30_000),
  /** The chat model: `gpt-4o-mini`, `Qwen/Qwen2.5-7B-Instruct` (vLLM), `llama3.1` (Ollama), … */
  model: z.string().min(1),
  /** Sampling temperature when the request sets none; unset: the server's default. */
  temperature: z.number().min(0).max(2).optional(),
  /** `max_tokens` when the request sets none; unset: the server's limit. */
  maxTokens: z.number().int().min(1).max(32_768).optional(),
});

/** Parsed {@link openaiChatLlmSettings}. */
export type OpenAiChatLlmSettings = z.output<typeof openaiChatLlmSettings>;

/** An OpenAI-compatible chat model as a {@link ChatModel}. */
export class OpenAiChatModel implements ChatModel {
  readonly name = 'openai-chat';

  constructor(
    private readonly client: HttpEngineClient,
    private readonly settings: OpenAiChatLlmSettings,
  ) {}

  /** {@inheritDoc ChatModel.chat} */
  async chat(messages: readonly ChatMessage[], options: ChatOptions = {}): Promise<string> {
    const reply = await requestChatCompletion(this.client, {
      model: options.model ?? this.settings.model,
      messages,
      temperature: options.temperature ?? this.settings.temperature,
      maxTokens: options.maxTokens ?? this.settings.maxTokens,
      signal: options.signal,
    });
    return reply.trim();
  }

  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/** The `openai-chat` LLM engine module; nothing is sent until the first request. */
export const openaiChatLlmEngine = defineEngine({
  kind: 'llm',
  name: 'openai-chat',
  description: 'OpenAI-compatible /v1/chat/completions model answering a conversation (the calls AI agent): vLLM, llama.cpp server, Ollama, LocalAI, OpenAI',
  settings: openaiChatLlmSettings,
  async create(settings, context: EngineContext) {
    return new OpenAiChatModel(httpClientFor('llm', settings, context), settings);
  },
});
