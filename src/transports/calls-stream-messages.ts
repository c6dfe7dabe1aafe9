import { z } from 'zod';
import type { CallRoomEvent } from '../gateway/calls/call-room.js';
import type { CallAudioFormat } from '../gateway/calls/call-audio.js';

/*
 * The calls stream socket's wire format (spec 004 `stream.url`, docs/calls.md "Stream protocol"):
 * JSON text frames with a `type`, both of the vendor's documented versions accepted inbound.
 */

const speaker = z.enum(['customer', 'agent']);

/** Client → server messages. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('audio'), data: z.string(),
    encoding: z.string().default('pcm_16'), sample_rate: z.number().int().default(16000), channels: z.number().int().default(1),
    speaker: speaker.optional(),
  }),
  z.object({
    type: z.literal('audio.input'), sequence: z.number().optional(), timestamp_ms: z.number().optional(), speaker: speaker.optional(),
    audio: z.object({ encoding: z.string().default('mulaw'), sample_rate_hz: z.number().int().default(8000), payload: z.string(), channels: z.number().int().default(1) }),
  }),
  z.object({ type: z.literal('control'), action: z.enum(['mute', 'unmute', 'pause_transcription', 'resume_transcription']) }),
  z.object({ type: z.literal('end') }),
  z.object({ type: z.literal('session.end') }),
  z.object({ type: z.literal('ping') }),
]);

/** A parsed client message. */
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** The audio of an `audio` or `audio.input` message: its bytes, format and the leg it speaks for. */
export function audioOf(message: Extract<ClientMessage, { type: 'audio' | 'audio.input' }>): { bytes: Buffer; format: CallAudioFormat; speaker?: 'customer' | 'agent' | undefined } {
  if (message.type === 'audio') {
    return {
      bytes: Buffer.from(message.data, 'base64'), speaker: message.speaker,
      format: { encoding: message.encoding as CallAudioFormat['encoding'], sampleRateHz: message.sample_rate, channels: message.channels as 1 | 2 },
    };
  }
  const a = message.audio;
  return { bytes: Buffer.from(a.payload, 'base64'), speaker: message.speaker, format: { encoding: a.encoding as CallAudioFormat['encoding'], sampleRateHz: a.sample_rate_hz, channels: a.channels as 1 | 2 } };
}

/** Vendor error codes of the socket's error messages, by HTTP status. */
function codeOf(status: number): { code: string; type: string } {
  switch (status) {
    case 400: return { code: 'invalid_request', type: 'validation_error' };
    case 401: return { code: 'invalid_token', type: 'authentication_error' };
    case 402: return { code: 'insufficient_api_credits', type: 'billing_error' };
    case 403: return { code: 'insufficient_permissions', type: 'authorization_error' };
    case 404: return { code: 'session_not_found', type: 'not_found_error' };
    case 408: return { code: 'timeout', type: 'api_error' };
    case 409: return { code: 'session_ended', type: 'invalid_request_error' };
    case 429: return { code: 'rate_limit_exceeded', type: 'rate_limit_error' };
    default: return { code: 'internal_error', type: 'api_error' };
  }
}

/** The socket's error message: `{type:"error", error:{code, message, type}}` (the REST error body with a `type`). */
export function errorMessage(status: number, message: string, code?: string): string {
  const d = codeOf(status);
  return JSON.stringify({ type: 'error', error: { code: code ?? d.code, message, type: d.type } });
}

/** Renders a call event as the socket's JSON (docs/calls.md "Server → client"). */
export function renderCallEvent(event: CallRoomEvent): string {
  switch (event.type) {
    case 'transcript':
      return JSON.stringify({
        type: 'transcript', id: event.id, speaker: event.speaker, language: event.language, text: event.text,
        is_final: event.isFinal, start_time: event.startTimeS, confidence: event.confidence,
      });
    case 'translation':
      return JSON.stringify({
        type: 'translation', id: event.id, speaker: event.speaker, source_language: event.sourceLanguage,
        target_language: event.targetLanguage, text: event.text, source_text: event.sourceText,
      });
    case 'error':
      return errorMessage(event.status, event.description);
  }
}

/** Translated (or relayed) speech for the listener: `{type:"audio", data, encoding, sample_rate, channels}` like the input message. */
export function audioMessage(bytes: Buffer, format: Pick<CallAudioFormat, 'encoding' | 'sampleRateHz'>): string {
  return JSON.stringify({ type: 'audio', data: bytes.toString('base64'), encoding: format.encoding, sample_rate: format.sampleRateHz, channels: 1 });
}
