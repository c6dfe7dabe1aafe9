/**
 * The one OpenAI-compatible chat-completions client of Tolk (`POST {baseUrl}/chat/completions`:
 * OpenAI, vLLM, llama.cpp server, LocalAI, Ollama's `/v1`), on the shared HTTP engine client — so
 * the `openai-chat` translator (`src/providers/mt/openai-chat.ts`) and the `openai-chat` LLM engine
 * (`src/providers/llm/openai-chat.ts`) get the same retries, timeouts, abort and `/metrics`
 * records (docs/engines.md "Engines: openai (STT)", the settings every remote engine shares). Non-streaming.
 */
import type { HttpEngineClient } from '../http/http-engine-client.js';
import type { ChatMessage } from './types.js';

/** The body of one request (OpenAI "Create chat completion"); optional fields are sent only when set. */
export interface ChatCompletionRequest {
  model: string;
  messages: readonly ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Sends one chat-completions request and returns `choices[0].message.content` as the server wrote
 * it (not trimmed: each caller cleans the reply its own way).
 * @throws {EngineHttpError} on a failed request (after retries), a timeout, an abort, or
 *   (`malformed_response`) an answer whose `choices[0].message.content` is not a string.
 */
export async function requestChatCompletion(client: HttpEngineClient, r: ChatCompletionRequest): Promise<string> {
  const body = {
    model: r.model,
    messages: r.messages,
    ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
    ...(r.maxTokens !== undefined ? { max_tokens: r.maxTokens } : {}),
  };
  const request = { method: 'POST', path: '/chat/completions', json: body, signal: r.signal } as const;
  const answer = (await client.requestJson(request)) as { choices?: Array<{ message?: { content?: unknown } }> } | null;
  const content = answer?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw client.malformed(request, 'expected choices[0].message.content to be a string');
  return content;
}
