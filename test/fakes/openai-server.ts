/**
 * A stand-in for an OpenAI-compatible server (OpenAI, speaches, whisper.cpp server, vLLM,
 * Kokoro-FastAPI), written from the OpenAI API reference: "Create transcription"
 * (`POST /v1/audio/transcriptions`, multipart; the verbose_json transcription object), "Create
 * chat completion" (`POST /v1/chat/completions`; the chat completion object), "Create speech"
 * (`POST /v1/audio/speech`; `pcm` = raw 24 kHz 16-bit signed little-endian samples) and "Error
 * codes" (`{"error":{"message","type","param","code"}}` bodies; 401 `invalid_api_key`, 429
 * `rate_limit_exceeded`, 500 `server_error`). Requests are recorded; answers are scripted by tests.
 */
import type http from 'node:http';
import { readWav } from '../../src/audio/wav.js';
import { HttpFake, writeScripted, type RecordedRequest, type ScriptedResponse } from './http-fake.js';

/** Paths the fake serves. */
export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';
export const CHAT_PATH = '/v1/chat/completions';
export const SPEECH_PATH = '/v1/audio/speech';

/** What the fake "hears" in one transcription request. */
export interface FakeTranscript {
  text: string;
  /** `language` of the answer; default the request's `language` field (or `en`). */
  language?: string;
  /** `avg_logprob` of each segment (one segment per entry, the audio split evenly); default [-0.1]. */
  avgLogprobs?: number[];
  /** Leave `segments` out of the answer (as some servers do). */
  noSegments?: boolean;
}

/** Settings of the fake. */
export interface FakeOpenAiOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401 `invalid_api_key`). */
  apiKey?: string;
  /** Answer `language` as OpenAI does (Whisper's name, `english`) instead of a code (faster-whisper). */
  languageNames?: boolean;
  /**
   * Chooses the transcript from the request's audio and form fields (e.g. by a marker in the
   * samples, or by duration); undefined falls back to the `transcripts` queue.
   */
  transcriptFor?: (audio: { samples: Int16Array; sampleRateHz: number }, fields: Record<string, string[]>) => string | FakeTranscript | undefined;
  /** The reply of each chat completion; default: the last user message's content. */
  chatReply?: (body: ChatRequestBody) => string;
  /** Speech: sample rate of `pcm` answers (Hz), default 24000; samples per input character, default 240. */
  speech?: { sampleRateHz?: number; samplesPerChar?: number; chunkBytes?: number; beforeRest?: () => Promise<void> };
}

/** The chat completion request fields the fake reads. */
export interface ChatRequestBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  temperature?: number;
}

/** The OpenAI error body (API reference "Error codes"). */
export function openAiError(status: number, message: string, type: string, code: string | null = null, headers?: Record<string, string>): Exclude<ScriptedResponse, 'hang' | 'drop'> {
  return { status, body: { error: { message, type, param: null, code } }, headers };
}

/** 429 as OpenAI sends it, with `Retry-After` in seconds. */
export function rateLimited(retryAfterS: number): Exclude<ScriptedResponse, 'hang' | 'drop'> {
  return openAiError(429, 'Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded', { 'retry-after': String(retryAfterS) });
}

/** 500 as OpenAI sends it. */
export const SERVER_ERROR = openAiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');

/** A running OpenAI-compatible stand-in; `baseUrl` is what an engine's `baseUrl` setting takes. */
export class FakeOpenAiServer extends HttpFake {
  /** Transcripts to answer, in order; past the end the fake hears nothing (`''`). */
  readonly transcripts: Array<string | FakeTranscript> = [];

  constructor(readonly options: FakeOpenAiOptions = {}) {
    super();
    this.route('POST', TRANSCRIPTIONS_PATH, (r, res) => this.transcribe(r, res));
    this.route('POST', CHAT_PATH, (r, res) => this.chat(r, res));
    this.route('POST', SPEECH_PATH, (r, res) => this.speech(r, res));
  }

  /** `http://127.0.0.1:<port>/v1`. */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  private authorized(r: RecordedRequest, res: http.ServerResponse): boolean {
    const key = this.options.apiKey;
    if (key === undefined) return true;
    const auth = r.headers.authorization;
    if (auth === `Bearer ${key}`) return true;
    const message = auth
      ? `Incorrect API key provided: ${auth.replace(/^Bearer\s+/, '').slice(0, 6)}****. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    writeScripted(res, openAiError(401, message, 'invalid_request_error', auth ? 'invalid_api_key' : null));
    return false;
  }

  private transcribe(r: RecordedRequest, res: http.ServerResponse): void {
    if (!this.authorized(r, res)) return;
    const field = (name: string): string | undefined => r.fields?.[name]?.[0];
    const file = r.files?.file;
    if (!file) return writeScripted(res, openAiError(400, "Missing required parameter: 'file'.", 'invalid_request_error'));
    if (!field('model')) return writeScripted(res, openAiError(400, 'you must provide a model parameter', 'invalid_request_error'));
    let wav: { samples: Int16Array; sampleRateHz: number };
    try {
      wav = readWav(file.bytes);
    } catch {
      return writeScripted(res, openAiError(400, 'Invalid file format. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm', 'invalid_request_error'));
    }
    const durationS = wav.samples.length / wav.sampleRateHz;
    const next = this.options.transcriptFor?.(wav, r.fields ?? {}) ?? this.transcripts.shift() ?? '';
    const t: FakeTranscript = typeof next === 'string' ? { text: next } : next;
    const format = field('response_format') ?? 'json';
    if (format === 'text') return writeScripted(res, { status: 200, body: t.text });
    if (format !== 'verbose_json') return writeScripted(res, { status: 200, body: { text: t.text } });
    const code = t.language ?? field('language') ?? 'en';
    const language = this.options.languageNames ? (LANGUAGE_NAMES[code] ?? code) : code;
    writeScripted(res, { status: 200, body: verboseJson(t, language, durationS) });
  }

  private chat(r: RecordedRequest, res: http.ServerResponse): void {
    if (!this.authorized(r, res)) return;
    const body = r.json as ChatRequestBody | undefined;
    if (!body || !Array.isArray(body.messages)) {
      return writeScripted(res, openAiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error'));
    }
    const last = [...body.messages].reverse().find((m) => m.role === 'user');
    const content = this.options.chatReply ? this.options.chatReply(body) : (last?.content ?? '');
    writeScripted(res, {
      status: 200,
      body: {
        id: `chatcmpl-${this.requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? 'unknown',
        choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      },
    });
  }

  private async speech(r: RecordedRequest, res: http.ServerResponse): Promise<void> {
    if (!this.authorized(r, res)) return;
    const body = r.json as { model?: string; input?: string; voice?: string; response_format?: string } | undefined;
    if (!body?.input) return writeScripted(res, openAiError(400, "Missing required parameter: 'input'.", 'invalid_request_error'));
    if (!body.voice) return writeScripted(res, openAiError(400, "Missing required parameter: 'voice'.", 'invalid_request_error'));
    if (body.response_format !== 'pcm') return writeScripted(res, openAiError(400, 'this fake speaks pcm only', 'invalid_request_error'));
    const o = this.options.speech ?? {};
    const pcm = tone(body.input.length * (o.samplesPerChar ?? 240), o.sampleRateHz ?? 24_000);
    const chunkBytes = o.chunkBytes ?? 4801;
    res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
    res.write(pcm.subarray(0, chunkBytes));
    if (o.beforeRest) await o.beforeRest();
    for (let i = chunkBytes; i < pcm.length; i += chunkBytes) res.write(pcm.subarray(i, i + chunkBytes));
    res.end();
  }
}

/** A 440 Hz tone as s16le bytes: what the fake "says". */
export function tone(samples: number, sampleRateHz: number): Buffer {
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRateHz)), i * 2);
  return out;
}

const LANGUAGE_NAMES: Record<string, string> = { en: 'english', es: 'spanish', fr: 'french', de: 'german', ru: 'russian' };

function verboseJson(t: FakeTranscript, language: string, durationS: number): unknown {
  const logprobs = t.avgLogprobs ?? [-0.1];
  const step = durationS / logprobs.length;
  const words = t.text.split(' ');
  const per = Math.ceil(words.length / logprobs.length);
  const segments = logprobs.map((avg_logprob, i) => ({
    id: i, seek: 0, start: i * step, end: (i + 1) * step, text: ` ${words.slice(i * per, (i + 1) * per).join(' ')}`,
    tokens: [50364], temperature: 0, avg_logprob, compression_ratio: 1.2, no_speech_prob: 0.01,
  }));
  return { task: 'transcribe', language, duration: durationS, text: t.text, ...(t.noSegments ? {} : { segments }) };
}

/** Starts a fake on port 0. */
export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAiServer> {
  return new FakeOpenAiServer(options).listen();
}
