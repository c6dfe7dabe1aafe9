import type { FastifyBaseLogger } from 'fastify';
import type { StoredCallSession } from '../../domain/calls/sessions.js';
import type { ChatMessage, ChatModel } from '../../providers/llm/types.js';
import { synthesizePcm } from '../../pipeline/translate-speak.js';
import type { TtsProvider } from '../../providers/tts/types.js';
import { CALL_RATE_HZ } from './call-audio.js';

/** The system prompt of `help_chat_voice` when the session gives none. */
const HELP_DESK_PROMPT = 'You are a voice help-desk assistant. Answer the caller briefly and clearly, in the language they speak, in one to three short sentences.';
/** Turns of history sent to the engine, at most (the system prompt is always sent). */
const MAX_HISTORY = 20;
/** Reply cap sent to the engine, in tokens (spoken replies stay short). */
const MAX_REPLY_TOKENS = 300;

/** Where the agent's reply goes: its text as the `agent` speaker, its voice to the customer. */
export interface AiAgentOutput {
  reply(text: string): void;
  speak(pcm: Buffer): void;
  failed(description: string): void;
}

/**
 * The AI voice agent of the `ai_agent` and `help_chat_voice` modes (spec 004): each final transcript
 * of the customer goes, with the conversation so far and the session's `ai_agent.system_prompt`, to
 * the process's `llm` engine (docs/engines.md "Engines: openai-chat (LLM)"); the reply is shown as the
 * agent's transcript and spoken in the customer's language. Replies are made one at a time, in order.
 * The session's `ai_agent.model` and `temperature`, when set, go with each request.
 */
export class AiAgent {
  private readonly history: ChatMessage[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly session: StoredCallSession,
    private readonly llm: ChatModel,
    private readonly tts: TtsProvider,
    private readonly output: AiAgentOutput,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Speaks `ai_agent.greeting` when the session has one. */
  greet(): void {
    const greeting = this.session.aiAgent?.greeting;
    if (typeof greeting === 'string' && greeting.trim() !== '') this.enqueue(async () => this.say(greeting));
  }

  /** The customer said `text` (a final transcript): answer it. */
  heard(text: string): void {
    if (text.trim() === '') return;
    this.enqueue(async () => {
      this.history.push({ role: 'user', content: text });
      const reply = await this.llm.chat(
        [{ role: 'system', content: this.systemPrompt() }, ...this.history.slice(-MAX_HISTORY)],
        { model: this.modelName(), temperature: this.temperature(), maxTokens: MAX_REPLY_TOKENS },
      );
      await this.say(reply);
    });
  }

  /** Waits for replies in flight. */
  async settle(): Promise<void> {
    await this.queue;
  }

  private async say(text: string): Promise<void> {
    this.history.push({ role: 'assistant', content: text });
    this.output.reply(text);
    for await (const pcm of synthesizePcm(this.tts, text, { language: this.session.sourceLanguage, voice: 'female', sampleRateHz: CALL_RATE_HZ })) this.output.speak(pcm);
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.log.warn({ err, sessionId: this.session.id }, 'AI agent reply failed');
      this.output.failed('The AI agent could not answer: the chat engine failed');
    });
  }

  private systemPrompt(): string {
    const prompt = this.session.aiAgent?.system_prompt;
    return typeof prompt === 'string' && prompt.trim() !== '' ? prompt : HELP_DESK_PROMPT;
  }

  /** The session's `ai_agent.model`, else undefined (the engine's `model` setting). */
  private modelName(): string | undefined {
    const model = this.session.aiAgent?.model;
    return typeof model === 'string' && model !== '' ? model : undefined;
  }

  private temperature(): number | undefined {
    const t = this.session.aiAgent?.temperature;
    return typeof t === 'number' ? t : undefined;
  }
}
