/**
 * An OpenAI-compatible chat-completions client (`POST {baseUrl}/chat/completions`, the API of
 * OpenAI, vLLM, llama.cpp server, LocalAI, Ollama's /v1): the engine behind the calls surface's
 * `ai_agent` and `help_chat_voice` modes. Non-streaming; one reply per call.
 */

/** A chat message (OpenAI `messages[]`). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Where the engine is and how to call it. */
export interface ChatEngine {
  /** Base URL including the version path, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  timeoutMs: number;
}

/**
 * Asks the engine for the assistant's next message.
 * @param options.temperature - sampling temperature (0–2), sent only when given.
 * @returns the reply's text (`choices[0].message.content`), trimmed.
 * @throws {Error} on a non-2xx answer (with its status and the start of its body), a timeout, or an
 *   answer without a message.
 */
export async function chatCompletion(engine: ChatEngine, messages: readonly ChatMessage[], options: { temperature?: number | undefined; maxTokens?: number } = {}): Promise<string> {
  const res = await fetch(`${engine.baseUrl.replace(/\/$/, '')}/chat/completions`, {
    method: 'POST',
    signal: AbortSignal.timeout(engine.timeoutMs),
    headers: { 'content-type': 'application/json', ...(engine.apiKey ? { authorization: `Bearer ${engine.apiKey}` } : {}) },
    body: JSON.stringify({
      model: engine.model, messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
    }),
  });
  if (!res.ok) throw new Error(`chat engine answered ${res.status}: ${(await res.text().catch(() => '')).slice(0, 200)}`);
  const body = (await res.json()) as { choices?: Array<{ message?: { content?: unknown } }> };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new Error('chat engine answered without choices[0].message.content');
  return content.trim();
}
