/**
 * The `llm` engine kind (docs/engines.md "Engines: openai-chat (LLM)"): a chat model that answers
 * a conversation. The calls surface's AI agent (`ai_agent`, `help_chat_voice`, docs/calls.md) is its
 * user. No imports: the kind's shapes only.
 */

/** A chat message (OpenAI `messages[]`). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Per-request choices; each one left out falls back to the engine's setting. */
export interface ChatOptions {
  /** The model name, over the engine's `model` setting (a call session's `ai_agent.model`). */
  model?: string | undefined;
  /** Sampling temperature, 0–2; over the engine's `temperature` setting; sent only when one is set. */
  temperature?: number | undefined;
  /** `max_tokens` of the reply; over the engine's `maxTokens` setting; sent only when one is set. */
  maxTokens?: number | undefined;
  /** Aborts the request (the call ended, the process closes). */
  signal?: AbortSignal | undefined;
}

/** A started `llm` engine instance. */
export interface ChatModel {
  /** The module's name (`openai-chat`). */
  readonly name: string;
  /**
   * The assistant's next message after `messages`, trimmed.
   * @throws {EngineHttpError} when the server fails (after the engine's retries), times out or
   *   answers without a message.
   */
  chat(messages: readonly ChatMessage[], options?: ChatOptions): Promise<string>;
  /** Nothing to stop for a remote model; present so every engine closes alike. */
  close(): Promise<void>;
}
