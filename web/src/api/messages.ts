/**
 * Parsers for the JSON messages the server sends on the two WebSockets (spec 003). Unknown or
 * malformed messages parse to `undefined` and are ignored, so a newer server does not break the app.
 */
import { isRecord } from './http';

/** A transcript on `/api/v1/ws/single`: interim (replace in place) or final (one card). */
export interface LiveTranscript {
  kind: 'transcript';
  isFinal: boolean;
  original: string;
  translation: string;
  utteranceId: string | undefined;
  /** End of speech → translation, measured by the server, in milliseconds. */
  latencyMs: number | undefined;
}

/** A transcript on a conversation socket. */
export interface ChatTranscript {
  kind: 'transcript';
  isMine: boolean;
  isInterim: boolean;
  original: string;
  /** The text in this listener's language. */
  translation: string;
  utteranceId: string | undefined;
  latencyMs: number | undefined;
}

/** `{"error": "…"}` on either socket. */
export interface ServerError {
  kind: 'error';
  message: string;
}

/** System events on a conversation socket. */
export type ConversationEvent =
  | { kind: 'partner_language'; lang: string }
  | { kind: 'presence'; joined: boolean; clientCount: number };

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const optionalStr = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const optionalMs = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;

function parseError(message: Record<string, unknown>): ServerError | undefined {
  if (message.error === undefined) return undefined;
  if (typeof message.error === 'string') return { kind: 'error', message: message.error };
  if (isRecord(message.error) && typeof message.error.description === 'string') {
    return { kind: 'error', message: message.error.description };
  }
  return { kind: 'error', message: 'The server reported an error.' };
}

/** Parses one text message of `/api/v1/ws/single`. */
export function parseLiveMessage(text: string): LiveTranscript | ServerError | undefined {
  const message = parseJson(text);
  if (!message) return undefined;
  const error = parseError(message);
  if (error) return error;
  if (typeof message.is_final !== 'boolean') return undefined;
  return {
    kind: 'transcript',
    isFinal: message.is_final,
    original: str(message.original),
    translation: str(message.translation),
    utteranceId: optionalStr(message.utterance_id),
    latencyMs: optionalMs(message.latency_ms),
  };
}

/** Parses one text message of `/api/v1/ws/<conversation_id>`. */
export function parseConversationMessage(text: string): ChatTranscript | ConversationEvent | ServerError | undefined {
  const message = parseJson(text);
  if (!message) return undefined;
  const error = parseError(message);
  if (error) return error;
  if (message.type === 'partner_language' && typeof message.lang === 'string') {
    return { kind: 'partner_language', lang: message.lang };
  }
  if (message.type === 'user_joined' || message.type === 'user_left') {
    const count = typeof message.client_count === 'number' ? message.client_count : message.type === 'user_joined' ? 2 : 1;
    return { kind: 'presence', joined: message.type === 'user_joined', clientCount: count };
  }
  if (typeof message.is_mine !== 'boolean') return undefined;
  return {
    kind: 'transcript',
    isMine: message.is_mine,
    isInterim: message.is_interim === true,
    original: str(message.original),
    translation: str(message.translation),
    utteranceId: optionalStr(message.utterance_id),
    latencyMs: optionalMs(message.latency_ms),
  };
}
