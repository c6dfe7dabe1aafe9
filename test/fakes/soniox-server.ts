/**
 * A local stand-in for Soniox's real-time Speech-to-Text API on port 0, written from Soniox's
 * documentation (https://soniox.com/docs/stt/api-reference/websocket-api and the pages it links):
 * - `GET /v1/models` (Bearer key) lists the models;
 * - `/transcribe-websocket`: the key in `Authorization: Bearer` on the upgrade (a wrong or missing key
 *   is refused with HTTP 401); the first text message is the configuration, checked field by field
 *   (a bad one gets `{error_code: 400, error_message}` and a close, as Soniox does); then binary
 *   audio frames (recorded), `{"type":"finalize"}` / `{"type":"keepalive"}` control messages
 *   (recorded), and an empty frame that ends the audio (answered with `finished: true`, then a close).
 * Recognition is scripted by the test through {@link FakeSonioxSession.send} and helpers.
 * `hangHandshake` makes a server that accepts TCP connections and never answers the upgrade.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SonioxModel, SonioxToken } from '../../src/providers/stt/soniox-protocol.js';

/** The languages of the stand-in's model (a subset of Soniox's list). */
export const FAKE_SONIOX_LANGUAGES = ['en', 'es', 'fr', 'de'];

/** The stand-in's one real-time model, with an alias as Soniox lists them. */
export const FAKE_SONIOX_MODELS: SonioxModel[] = [
  {
    id: 'stt-rt-v5', aliased_model_id: null, transcription_mode: 'real_time',
    languages: FAKE_SONIOX_LANGUAGES.map((code) => ({ code, name: code })), one_way_translation: 'all_languages',
  },
  { id: 'stt-async-v4', aliased_model_id: null, transcription_mode: 'async', languages: [{ code: 'en', name: 'English' }] },
];

const AUDIO_FORMATS = new Set(['auto', 'pcm_s16le', 'pcm_s16be', 'pcm_f32le', 'mulaw', 'alaw', 'wav', 'mp3', 'ogg', 'flac', 'webm']);
const CONFIG_FIELDS = new Set([
  'api_key', 'model', 'audio_format', 'sample_rate', 'num_channels', 'language_hints', 'language_hints_strict', 'context',
  'enable_speaker_diarization', 'enable_language_identification', 'enable_endpoint_detection', 'max_endpoint_delay_ms',
  'client_reference_id', 'translation',
]);

/**
 * Checks a configuration message against the documented parameters; returns the problem, or
 * undefined when it is valid.
 */
export function sonioxConfigProblem(c: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(c).filter((k) => !CONFIG_FIELDS.has(k));
  if (unknown.length > 0) return `Unknown configuration fields: ${unknown.join(', ')}`;
  if (typeof c.model !== 'string' || !FAKE_SONIOX_MODELS.some((m) => m.id === c.model && m.transcription_mode === 'real_time')) return 'Invalid model specified.';
  if (typeof c.audio_format !== 'string' || !AUDIO_FORMATS.has(c.audio_format)) return 'Invalid audio_format.';
  if (c.audio_format.startsWith('pcm_')) {
    if (!Number.isInteger(c.sample_rate) || (c.sample_rate as number) <= 0) return 'sample_rate is required for raw audio formats.';
    if (!Number.isInteger(c.num_channels) || (c.num_channels as number) < 1) return 'num_channels is required for raw audio formats.';
  }
  if (c.language_hints !== undefined && (!Array.isArray(c.language_hints) || !c.language_hints.every((l) => FAKE_SONIOX_LANGUAGES.includes(l)))) return 'Invalid language_hints.';
  for (const flag of ['enable_endpoint_detection', 'enable_speaker_diarization', 'enable_language_identification', 'language_hints_strict']) {
    if (c[flag] !== undefined && typeof c[flag] !== 'boolean') return `${flag} must be a boolean.`;
  }
  const delay = c.max_endpoint_delay_ms;
  if (delay !== undefined && (!Number.isInteger(delay) || (delay as number) < 500 || (delay as number) > 3000)) return 'max_endpoint_delay_ms must be between 500 and 3000.';
  return contextProblem(c.context) ?? translationProblem(c.translation);
}

function contextProblem(context: unknown): string | undefined {
  if (context === undefined) return undefined;
  if (typeof context !== 'object' || context === null) return 'context must be an object.';
  const x = context as Record<string, unknown>;
  if (x.terms !== undefined && (!Array.isArray(x.terms) || !x.terms.every((t) => typeof t === 'string'))) return 'context.terms must be strings.';
  const pairs = x.translation_terms;
  const isPair = (p: unknown): boolean => typeof p === 'object' && p !== null && typeof (p as { source: unknown }).source === 'string' && typeof (p as { target: unknown }).target === 'string';
  if (pairs !== undefined && (!Array.isArray(pairs) || !pairs.every(isPair))) return 'context.translation_terms must be {source, target} pairs.';
  return undefined;
}

function translationProblem(translation: unknown): string | undefined {
  if (translation === undefined) return undefined;
  const t = translation as Record<string, unknown>;
  if (t.type === 'one_way') return FAKE_SONIOX_LANGUAGES.includes(t.target_language as string) ? undefined : 'Invalid translation.target_language.';
  if (t.type === 'two_way') return FAKE_SONIOX_LANGUAGES.includes(t.language_a as string) && FAKE_SONIOX_LANGUAGES.includes(t.language_b as string) ? undefined : 'Invalid two-way languages.';
  return 'translation.type must be one_way or two_way.';
}

/**
 * Tokens of `text` as Soniox splits it: words, each after the first with its leading space (the
 * first too when `continues`, i.e. the text goes on an earlier token).
 */
export function tokens(text: string, fields: Partial<SonioxToken> & { startMs?: number; msPerWord?: number; continues?: boolean } = {}): SonioxToken[] {
  const { startMs = 0, msPerWord = 200, continues = false, ...rest } = fields;
  return text.split(' ').map((word, i) => ({
    text: i === 0 && !continues ? word : ` ${word}`, start_ms: startMs + i * msPerWord, end_ms: startMs + (i + 1) * msPerWord,
    confidence: 0.9, is_final: false, ...rest,
  }));
}

/** Translated tokens (no timing or confidence, as Soniox sends them). */
export function translationTokens(text: string, language: string, sourceLanguage: string): SonioxToken[] {
  return text.split(' ').map((word, i) => ({
    text: i === 0 ? word : ` ${word}`, is_final: true, translation_status: 'translation', language, source_language: sourceLanguage,
  }));
}

/** One client session as the stand-in saw it. */
export class FakeSonioxSession {
  /** The upgrade request's headers. */
  headers: IncomingHttpHeaders = {};
  /** The parsed configuration message, once received. */
  config: Record<string, unknown> | undefined;
  /** Binary audio frames received, in order. */
  readonly audio: Buffer[] = [];
  /** Control messages after the configuration (`finalize`, `keepalive`), in order. */
  readonly controls: Array<Record<string, unknown>> = [];
  /** True once the empty frame that ends the audio arrived. */
  audioEnded = false;
  /** True once the socket closed. */
  closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {}

  /** Audio bytes received. */
  get audioBytes(): number {
    return this.audio.reduce((n, b) => n + b.length, 0);
  }

  /** Sends one response with the documented fields around `tokenList`. */
  send(tokenList: SonioxToken[], extra: Record<string, unknown> = {}): void {
    const rate = typeof this.config?.sample_rate === 'number' ? this.config.sample_rate : 16000;
    const ms = Math.round((this.audioBytes / 2 / rate) * 1000);
    this.socket.send(JSON.stringify({ tokens: tokenList, final_audio_proc_ms: ms, total_audio_proc_ms: ms, ...extra }));
  }

  /** Sends an error response and closes, as Soniox does. */
  error(code: number, message: string): void {
    this.socket.send(JSON.stringify({ error_code: code, error_message: message }));
    this.socket.close(1000);
  }

  /** Resolves when `predicate` holds (checked after each message the session receives). */
  async until(predicate: (s: FakeSonioxSession) => boolean): Promise<void> {
    while (!predicate(this)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when the `n`-th (1-based) control message of `type` has arrived. */
  untilControl(type: string, n = 1): Promise<void> {
    return this.until((s) => s.controls.filter((c) => c.type === type).length >= n);
  }

  /** @internal */
  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Settings of {@link startFakeSoniox}. */
export interface FakeSonioxOptions {
  /** The key the stand-in accepts. */
  apiKey: string;
  /** Accept TCP connections but never answer the WebSocket upgrade (connect timeouts). */
  hangHandshake?: boolean;
}

/** A running stand-in. */
export interface FakeSoniox {
  /** `ws://127.0.0.1:<port>/transcribe-websocket`. */
  url: string;
  /** `http://127.0.0.1:<port>` (for `GET /v1/models`). */
  apiUrl: string;
  readonly sessions: FakeSonioxSession[];
  /** Resolves with the `n`-th (1-based) session once its configuration message has arrived. */
  session(n?: number): Promise<FakeSonioxSession>;
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1, port 0. */
export async function startFakeSoniox(options: FakeSonioxOptions): Promise<FakeSoniox> {
  const sessions: FakeSonioxSession[] = [];
  const sessionWaiters: Array<() => void> = [];
  const hung: Socket[] = [];
  const authorized = (h: IncomingHttpHeaders): boolean => h.authorization === `Bearer ${options.apiKey}`;
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/v1/models') return void res.writeHead(404).end();
    if (!authorized(req.headers)) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"status_code":401,"error_type":"unauthenticated"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: FAKE_SONIOX_MODELS }));
  });
  server.on('upgrade', (req, socket, head) => {
    if (options.hangHandshake) return void hung.push(socket as Socket);
    if (req.url !== '/transcribe-websocket' || !authorized(req.headers)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new FakeSonioxSession(ws);
      session.headers = req.headers;
      sessions.push(session);
      ws.on('message', (data, isBinary) => {
        onFrame(session, Buffer.from(data as Buffer), isBinary);
        session.notify();
        for (const w of sessionWaiters.splice(0)) w();
      });
      ws.on('close', () => {
        session.closed = true;
        session.notify();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/transcribe-websocket`,
    apiUrl: `http://127.0.0.1:${port}`,
    sessions,
    async session(n = 1) {
      while (!sessions[n - 1]?.config) await new Promise<void>((resolve) => sessionWaiters.push(resolve));
      return sessions[n - 1] as FakeSonioxSession;
    },
    async close() {
      for (const s of hung) s.destroy();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One frame from the client: configuration first, then audio, controls, or the empty end frame. */
function onFrame(session: FakeSonioxSession, data: Buffer, isBinary: boolean): void {
  if (data.length === 0) {
    session.audioEnded = true;
    session.send([], { finished: true });
    session.socket.close(1000);
    return;
  }
  if (isBinary) {
    if (!session.config) return session.error(400, 'The first message must be the configuration.');
    session.audio.push(data);
    return;
  }
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(data.toString()) as Record<string, unknown>;
  } catch {
    return session.error(400, 'Invalid JSON message.');
  }
  if (session.config) {
    if (message.type !== 'finalize' && message.type !== 'keepalive') return session.error(400, 'Unknown control message.');
    session.controls.push(message);
    return;
  }
  const problem = sonioxConfigProblem(message);
  session.config = message;
  if (problem) session.error(400, problem);
}
