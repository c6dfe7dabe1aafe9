/**
 * The `openai` STT engine (docs/architecture.md "Engines" "OpenAI-compatible transcription"): any server with OpenAI's
 * `POST /v1/audio/transcriptions` — the faster-whisper servers (speaches), whisper.cpp server, vLLM,
 * LocalAI, OpenAI, Groq. One request per utterance: `push` buffers the utterance's audio, `flush`
 * sends it as a WAV file and resolves with the final transcript. No interim transcripts.
 */
import { z } from 'zod';
import { AsyncQueue } from '../../common/async-queue.js';
import { primaryLanguage } from '../../common/language-tags.js';
import { concatSamples } from '../../audio/pcm.js';
import { writeWav } from '../../audio/wav.js';
import { defineEngine, type EngineContext } from '../engine-module.js';
import type { HttpEngineClient } from '../http/http-engine-client.js';
import { httpClientFor, httpEngineSettingsShape } from '../http/http-settings.js';
import type { SttCapabilities, SttProvider, SttStats, SttStream, SttStreamOptions, SttTranscript } from './types.js';
import { parseTranscription } from './openai-transcription.js';
import { WHISPER_LANGUAGES } from './whisper-languages.js';

/** Utterances shorter than this are not sent (OpenAI refuses audio under 0.1 s); their final is empty. */
export const MIN_UTTERANCE_MS = 100;
/** Longest `prompt` built from the stream's vocabulary, in characters (Whisper reads ~224 tokens of it). */
export const MAX_PROMPT_CHARS = 800;

/** Settings of the `openai` STT engine (docs/engines.md "Engines: openai (STT)"). */
export const openaiSttSettings = z.strictObject({
  ...httpEngineSettingsShape,
  /** The transcription model: `whisper-1` (OpenAI), `Systran/faster-whisper-small` (speaches), … */
  model: z.string().min(1).default('whisper-1'),
  /** Primary subtags the server's model recognizes; default: Whisper's 99 languages plus Cantonese. */
  languages: z.array(z.string().regex(/^[a-z]{2,3}$/, 'languages are primary subtags such as "en"')).min(1).default([...WHISPER_LANGUAGES]),
  /** The rate, in Hz, at which streams take audio (and the WAV files are sent). */
  sampleRateHz: z.number().int().min(8000).max(48_000).default(16_000),
  /** Sampling temperature sent with each request (0 lets Whisper raise it on its own fallbacks). */
  temperature: z.number().min(0).max(1).default(0),
  /** Send the stream's vocabulary as the `prompt` field (Whisper's way of biasing words). */
  vocabularyPrompt: z.boolean().default(true),
  /** Longest utterance kept, in ms; audio past it is dropped (a VAD utterance is far shorter). */
  maxUtteranceMs: z.number().int().min(1000).max(600_000).default(120_000),
});

/** Parsed {@link openaiSttSettings}. */
export type OpenAiSttSettings = z.output<typeof openaiSttSettings>;

/** An STT engine behind an OpenAI-compatible transcription server; see the module doc. */
export class OpenAiStt implements SttProvider {
  readonly name = 'openai';
  readonly capabilities: SttCapabilities;
  private readonly client: HttpEngineClient;
  private readonly totals: SttStats = { audioMs: 0, decodeMs: 0 };
  private readonly streams = new Set<OpenAiSttStream>();

  constructor(
    private readonly settings: OpenAiSttSettings,
    context: EngineContext,
  ) {
    this.client = httpClientFor('stt', settings, context);
    this.capabilities = {
      languages: [...new Set(settings.languages)],
      interimResults: false,
      vocabulary: settings.vocabularyPrompt,
      sampleRateHz: settings.sampleRateHz,
    };
  }

  /** @throws {Error} when the language is not in `capabilities.languages`. */
  async open(options: SttStreamOptions): Promise<SttStream> {
    const language = primaryLanguage(options.language);
    if (!this.capabilities.languages.includes(language)) {
      throw new Error(`${this.name} STT does not recognize ${options.language}; configured languages: ${this.capabilities.languages.join(', ')}`);
    }
    const stream = new OpenAiSttStream(this.client, this.settings, { language, vocabulary: options.vocabulary ?? [] }, this.totals, () => this.streams.delete(stream));
    this.streams.add(stream);
    return stream;
  }

  /** Closes every open stream (aborting their requests). */
  async close(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.close()));
  }

  /** Audio sent and time spent waiting for transcripts, in ms. */
  stats(): SttStats {
    return { ...this.totals };
  }
}

/** The `prompt` of a stream: its vocabulary words, comma-separated, cut at {@link MAX_PROMPT_CHARS}. */
export function vocabularyPrompt(vocabulary: readonly string[]): string {
  let prompt = '';
  for (const word of vocabulary.map((w) => w.trim()).filter(Boolean)) {
    const next = prompt ? `${prompt}, ${word}` : word;
    if (next.length > MAX_PROMPT_CHARS) break;
    prompt = next;
  }
  return prompt;
}

/** One speaker's stream: one transcription request per utterance. */
class OpenAiSttStream implements SttStream {
  private readonly events = new AsyncQueue<SttTranscript>();
  private readonly abort = new AbortController();
  private chunks: Int16Array[] = [];
  private samples = 0;
  private closed = false;

  constructor(
    private readonly client: HttpEngineClient,
    private readonly settings: OpenAiSttSettings,
    private readonly options: { language: string; vocabulary: readonly string[] },
    private readonly totals: SttStats,
    private readonly onClose: () => void,
  ) {}

  get pendingMs(): number {
    return this.toMs(this.samples);
  }

  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    const room = Math.floor((this.settings.maxUtteranceMs * this.settings.sampleRateHz) / 1000) - this.samples;
    if (room <= 0) return;
    const kept = samples.length > room ? samples.slice(0, room) : samples.slice();
    this.chunks.push(kept);
    this.samples += kept.length;
  }

  /**
   * Sends the utterance and resolves with its final transcript.
   * @throws {EngineHttpError} when the server fails (after retries), the body is malformed, or the stream closed meanwhile.
   * @throws {Error} when the stream is already closed.
   */
  async flush(): Promise<SttTranscript> {
    if (this.closed) throw new Error('openai STT stream is closed');
    const samples = concatSamples(this.chunks);
    this.chunks = [];
    this.samples = 0;
    const audioMs = this.toMs(samples.length);
    let final: SttTranscript = { type: 'final', text: '', audioMs };
    if (audioMs >= MIN_UTTERANCE_MS) {
      const startedMs = performance.now();
      try {
        final = { type: 'final', audioMs, ...(await this.transcribe(samples)) };
      } finally {
        this.totals.audioMs += audioMs;
        this.totals.decodeMs += performance.now() - startedMs;
      }
    }
    this.events.push(final);
    return final;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.chunks = [];
    this.samples = 0;
    this.events.end();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttTranscript> {
    return this.events[Symbol.asyncIterator]();
  }

  private async transcribe(samples: Int16Array): Promise<Omit<SttTranscript, 'type' | 'audioMs'>> {
    const form = new FormData();
    const wav = writeWav({ samples, sampleRateHz: this.settings.sampleRateHz });
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', this.settings.model);
    form.append('language', this.options.language);
    const prompt = this.settings.vocabularyPrompt ? vocabularyPrompt(this.options.vocabulary) : '';
    if (prompt) form.append('prompt', prompt);
    form.append('response_format', 'verbose_json');
    form.append('temperature', String(this.settings.temperature));
    const request = { method: 'POST', path: '/audio/transcriptions', body: form, signal: this.abort.signal } as const;
    const body = await this.client.requestJson(request);
    const parsed = parseTranscription(body);
    if (!parsed) throw this.client.malformed(request, 'expected a verbose_json transcription with a "text" string');
    return parsed;
  }

  private toMs(samples: number): number {
    return (samples * 1000) / this.settings.sampleRateHz;
  }
}

/**
 * The `openai` STT engine module. `create` reads its capabilities from the settings (the
 * transcription API has no discovery endpoint every server implements); nothing is sent until
 * the first utterance.
 */
export const openaiSttEngine = defineEngine({
  kind: 'stt',
  name: 'openai',
  description: 'OpenAI-compatible /v1/audio/transcriptions (speaches, faster-whisper, whisper.cpp, vLLM, LocalAI, OpenAI, Groq), one request per utterance',
  settings: openaiSttSettings,
  async create(settings, context) {
    return new OpenAiStt(settings, context);
  },
});
