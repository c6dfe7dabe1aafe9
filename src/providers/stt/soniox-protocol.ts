/**
 * The wire format of Soniox's real-time Speech-to-Text WebSocket API, as documented at
 * https://soniox.com/docs/stt/api-reference/websocket-api (configuration, binary audio, the empty
 * frame that ends input, responses and error responses), https://soniox.com/docs/stt/rt/endpoint-detection
 * (`<end>`), https://soniox.com/docs/stt/rt/manual-finalization (`{"type":"finalize"}` → `<fin>`),
 * https://soniox.com/docs/stt/rt/connection-keepalive, https://soniox.com/docs/stt/rt/real-time-translation
 * and https://soniox.com/docs/guides/websocket-authentication (the key travels with the connection,
 * as `Authorization: Bearer`; the config message's `api_key` is deprecated). Shapes and parsing
 * only: the stream that uses them is `soniox.ts`.
 */

/** Soniox's real-time endpoint. */
export const SONIOX_REALTIME_URL = 'wss://stt-rt.soniox.com/transcribe-websocket';
/** Soniox's REST API root (`GET /v1/models` lists the models and their languages). */
export const SONIOX_API_URL = 'https://api.soniox.com';

/** The token that ends an utterance when endpoint detection is on (always final, once per utterance). */
export const END_TOKEN = '<end>';
/** The token that closes a manual finalization (always final). */
export const FIN_TOKEN = '<fin>';

/** The control messages a client sends as text frames. */
export const FINALIZE_MESSAGE = JSON.stringify({ type: 'finalize' });
export const KEEPALIVE_MESSAGE = JSON.stringify({ type: 'keepalive' });

/** The first message of a session: the transcription configuration (no `api_key`: see the header). */
export interface SonioxConfigMessage {
  model: string;
  audio_format: 'pcm_s16le';
  /** Hz. */
  sample_rate: number;
  num_channels: 1;
  /** ISO 639-1 codes of the expected languages. */
  language_hints: string[];
  enable_endpoint_detection: boolean;
  /** 500..3000 ms; Soniox's default is 2000. */
  max_endpoint_delay_ms?: number;
  context?: {
    terms?: string[];
    translation_terms?: Array<{ source: string; target: string }>;
  };
  translation?: { type: 'one_way'; target_language: string };
}

/** One token of a response. Translated tokens carry no timing or confidence. */
export interface SonioxToken {
  text: string;
  /** ms from the start of the stream's audio. */
  start_ms?: number;
  end_ms?: number;
  /** 0..1. */
  confidence?: number;
  is_final: boolean;
  language?: string;
  /** `none` (not translated), `original` (spoken text), `translation` (translated text). */
  translation_status?: 'none' | 'original' | 'translation';
  source_language?: string;
}

/** One response: final tokens first, then non-final ones; or an error (then Soniox closes the socket). */
export interface SonioxResponse {
  tokens: SonioxToken[];
  /** Audio finalized so far, in ms. */
  final_audio_proc_ms: number;
  /** Audio processed so far (final and non-final), in ms. */
  total_audio_proc_ms: number;
  /** True on the last response, after the client ended its audio. */
  finished: boolean;
  error?: SonioxError;
}

/** An error response of Soniox (`error_code`, `error_message`), or a socket failure. */
export class SonioxError extends Error {
  /**
   * @param code - Soniox's `error_code` (HTTP-style: 400, 401, 402, 408, 429, 500, 503), or
   *   undefined for a failure of the connection itself.
   */
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = 'SonioxError';
  }

  /** 408, 429, 5xx and connection failures may succeed on a new session (Soniox: "restart the request" on 503). */
  get retryable(): boolean {
    return this.code === undefined || this.code === 408 || this.code === 429 || this.code >= 500;
  }
}

/**
 * Parses one text frame from Soniox.
 * @throws {SonioxError} when the frame is not a JSON object.
 */
export function parseSonioxResponse(data: string): SonioxResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new SonioxError(`soniox sent a frame that is not JSON: ${data.slice(0, 80)}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new SonioxError('soniox sent a frame that is not a JSON object');
  const r = raw as Record<string, unknown>;
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const response: SonioxResponse = {
    tokens: Array.isArray(r.tokens) ? r.tokens.filter(isToken) : [],
    final_audio_proc_ms: num(r.final_audio_proc_ms),
    total_audio_proc_ms: num(r.total_audio_proc_ms),
    finished: r.finished === true,
  };
  if (r.error_code !== undefined || r.error_message !== undefined) {
    const code = typeof r.error_code === 'number' ? r.error_code : undefined;
    const message = typeof r.error_message === 'string' ? r.error_message : 'no message';
    response.error = new SonioxError(`soniox error ${code ?? '(no code)'}: ${message}`, code);
  }
  return response;
}

function isToken(t: unknown): t is SonioxToken {
  return typeof t === 'object' && t !== null && typeof (t as SonioxToken).text === 'string';
}

/** The part of `GET /v1/models` Tolk reads: each model's id, mode, languages and translation support. */
export interface SonioxModel {
  id: string;
  aliased_model_id?: string | null;
  transcription_mode: 'real_time' | 'async';
  languages: Array<{ code: string; name?: string }>;
  /** `all_languages` when any pair of `languages` can be translated one way. */
  one_way_translation?: string | null;
  translation_targets?: Array<{ target_language: string; source_languages: string[]; exclude_source_languages?: string[] }>;
}

/**
 * Fetches the model `modelId` from `GET {apiUrl}/v1/models` (capability discovery).
 * @throws {Error} naming the server when it cannot be reached, answers an error, or has no such
 *   real-time model.
 */
export async function fetchSonioxModel(apiUrl: string, apiKey: string, modelId: string, signal?: AbortSignal): Promise<SonioxModel> {
  const url = `${apiUrl.replace(/\/+$/, '')}/v1/models`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${apiKey}` }, signal: signal ?? AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`soniox: cannot reach ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok) throw new Error(`soniox: ${url} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const body = (await response.json()) as { models?: SonioxModel[] };
  const model = body.models?.find((m) => m.id === modelId || m.aliased_model_id === modelId);
  if (!model || model.transcription_mode !== 'real_time') {
    const known = (body.models ?? []).filter((m) => m.transcription_mode === 'real_time').map((m) => m.id).join(', ');
    throw new Error(`soniox: no real-time model "${modelId}" at ${url}; real-time models: ${known || 'none'}`);
  }
  return model;
}

/** The one-way translation pairs a model offers, as primary language subtags. */
export function sonioxTranslationPairs(model: SonioxModel): Array<{ source: string; target: string }> {
  const codes = model.languages.map((l) => l.code);
  if (model.one_way_translation === 'all_languages') {
    return codes.flatMap((source) => codes.filter((t) => t !== source).map((target) => ({ source, target })));
  }
  return (model.translation_targets ?? []).flatMap((t) => {
    const sources = t.source_languages.includes('*') ? codes : t.source_languages;
    const excluded = new Set(t.exclude_source_languages ?? []);
    return sources.filter((s) => s !== t.target_language && !excluded.has(s)).map((source) => ({ source, target: t.target_language }));
  });
}
