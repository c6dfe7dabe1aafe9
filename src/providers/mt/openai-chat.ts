/**
 * The `openai-chat` MT engine (docs/architecture.md "Engines" "OpenAI-compatible chat models for MT"): any server with
 * OpenAI's `POST /v1/chat/completions` — vLLM, llama.cpp server, Ollama, LocalAI, OpenAI. One
 * request per utterance at temperature 0: a system prompt asking for the translation only, with the
 * rule for glossary placeholders (`{{0}}`, copied unchanged) and, when the pipeline passes them, the
 * target terms they stand for; the reply is cleaned of the quotes, labels and reasoning a model adds.
 * The request goes through the one chat-completions client (`src/providers/llm/chat-completions.ts`),
 * shared with the `openai-chat` LLM engine of the AI agent.
 */
import { z } from 'zod';
import { defineEngine, type EngineContext } from '../engine-module.js';
import type { HttpEngineClient } from '../http/http-engine-client.js';
import { httpClientFor, httpEngineSettingsShape } from '../http/http-settings.js';
import { requestChatCompletion } from '../llm/chat-completions.js';
import type { ChatMessage } from '../llm/types.js';
import { hasSlots, parseSlots, renderSlots, restoreSlotSpacing, slotNumbers } from './slot-text.js';
import type { LanguagePair, MtCapabilities, MtProvider, MtText, MtRequestOptions } from './types.js';

/** Settings of the `openai-chat` engine (docs/engines.md "Engines: openai-chat"). */
export const openaiChatSettings = z.strictObject({
  ...httpEngineSettingsShape,
  /** The chat model: `gpt-4o-mini`, `Qwen/Qwen2.5-7B-Instruct` (vLLM), `llama3.1` (Ollama), … */
  model: z.string().min(1),
  /** Primary subtags the model translates between; every ordered pair of two of them is offered. */
  languages: z.array(z.string().regex(/^[a-z]{2,3}$/, 'languages are primary subtags such as "en"')).min(2),
  /** Sampling temperature (0: the most likely translation, the same every time). */
  temperature: z.number().min(0).max(2).default(0),
  /** `max_tokens` of each request; omitted by default (the server's limit applies). */
  maxTokens: z.number().int().min(1).max(32_768).optional(),
  /** Sentences added to the end of the system prompt (register, domain, spelling conventions). */
  instructions: z.string().max(2000).optional(),
});

/** Parsed {@link openaiChatSettings}. */
export type OpenAiChatSettings = z.output<typeof openaiChatSettings>;

/** The placeholder of slot `n` in a prompt. */
export function placeholder(slot: number): string {
  return `{{${slot}}}`;
}

const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language' });

/** The English name of a primary subtag (`es` → `Spanish`), or the subtag itself. */
function languageName(tag: string): string {
  try {
    return LANGUAGE_NAMES.of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/**
 * The system prompt of one request: the pair, "the translation only", the placeholder rule, the
 * terms the placeholders stand for (when known) and the configured `instructions`.
 */
export function systemPrompt(pair: LanguagePair, input: MtText, options: { slotTerms?: readonly string[]; instructions?: string }): string {
  const source = `${languageName(pair.source)} (${pair.source})`;
  const target = `${languageName(pair.target)} (${pair.target})`;
  const lines = [
    `You are a translation engine. Translate the user's message from ${source} to ${target}.`,
    'The message is a transcript of speech: keep its meaning, tone and register.',
    'Reply with the translation only: no quotes, no labels, no notes, no explanations.',
  ];
  const slots = [...slotNumbers(input)].sort((a, b) => a - b);
  if (slots.length > 0) {
    lines.push('Placeholders such as {{0}} stand for protected terms: copy each one unchanged, exactly once, where the term belongs in the translation.');
    const terms = slots.flatMap((s) => {
      const term = options.slotTerms?.[s];
      return term ? [`${placeholder(s)} = "${term}"`] : [];
    });
    if (terms.length > 0) lines.push(`They stand for these ${languageName(pair.target)} terms: ${terms.join('; ')}.`);
  }
  if (options.instructions) lines.push(options.instructions);
  return lines.join('\n');
}

const QUOTES: ReadonlyArray<readonly [string, string]> = [['"', '"'], ['“', '”'], ['„', '“'], ['«', '»'], ['「', '」'], ["'", "'"]];
const LABEL = /^(?:(?:sure|certainly|of course|okay|ok)[,!.]?\s*)?(?:here(?:'s| is) (?:the|your|my) translation[^:\n]*|translation(?: \([^)]*\))?|translated text|[a-z]+ translation)\s*:\s*/i;

/**
 * A model's reply reduced to the translation: reasoning blocks (`<think>…</think>`) removed, a
 * leading label ("Translation:", "Here is the translation:") dropped, and one pair of quotes
 * around the whole text taken off.
 */
export function cleanReply(reply: string): string {
  let text = reply.replace(/<think>[\s\S]*?<\/think>/gi, '').trim();
  for (let previous = ''; previous !== text; ) {
    previous = text;
    text = text.replace(LABEL, '').trim();
    for (const [open, close] of QUOTES) {
      if (text.length >= 2 && text.startsWith(open) && text.endsWith(close) && !text.slice(1, -1).includes(close)) text = text.slice(1, -1).trim();
    }
  }
  return text;
}

/** Every ordered pair of two different languages of the list. */
export function allPairs(languages: readonly string[]): LanguagePair[] {
  const unique = [...new Set(languages)];
  return unique.flatMap((source) => unique.filter((target) => target !== source).map((target) => ({ source, target })));
}

/** An OpenAI-compatible chat model as an {@link MtProvider}; see the module doc. */
export class OpenAiChatMt implements MtProvider {
  readonly name = 'openai-chat';
  readonly capabilities: MtCapabilities;

  constructor(
    private readonly client: HttpEngineClient,
    private readonly settings: OpenAiChatSettings,
  ) {
    this.capabilities = { pairs: allPairs(settings.languages) };
  }

  /**
   * @throws {Error} when the pair is not offered.
   * @throws {EngineHttpError} when the server fails (after retries) or the reply has no text.
   */
  async translate(input: MtText, pair: LanguagePair, options: MtRequestOptions = {}): Promise<MtText> {
    if (!this.capabilities.pairs.some((p) => p.source === pair.source && p.target === pair.target)) {
      throw new Error(`openai-chat has no ${pair.source}→${pair.target} pair; configured languages: ${this.settings.languages.join(', ')}`);
    }
    if (!input.some((p) => typeof p !== 'string' || p.trim())) return [...input];
    const messages: ChatMessage[] = [
      { role: 'system', content: systemPrompt(pair, input, { slotTerms: options.slotTerms, instructions: this.settings.instructions }) },
      { role: 'user', content: renderSlots(input, placeholder) },
    ];
    const content = await requestChatCompletion(this.client, {
      model: this.settings.model, messages, temperature: this.settings.temperature, maxTokens: this.settings.maxTokens, signal: options.signal,
    });
    const text = cleanReply(content);
    if (!text) throw this.client.malformed({ method: 'POST', path: '/chat/completions' }, 'the reply is empty');
    if (!hasSlots(input)) return [text];
    return restoreSlotSpacing(parseSlots(text, PLACEHOLDER, slotNumbers(input)), input);
  }

  /** Nothing to start: the server keeps its model loaded. */
  async prewarm(): Promise<void> {}

  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/**
 * The `openai-chat` engine module. Its pairs come from the `languages` setting (a chat model has no
 * list of languages to discover); nothing is sent until the first utterance.
 */
export const openaiChatEngine = defineEngine({
  kind: 'mt',
  name: 'openai-chat',
  description: 'OpenAI-compatible /v1/chat/completions model as a translator (vLLM, llama.cpp server, Ollama, LocalAI, OpenAI), glossary placeholders kept',
  settings: openaiChatSettings,
  async create(settings, context: EngineContext) {
    return new OpenAiChatMt(httpClientFor('mt', settings, context), settings);
  },
});
