/**
 * Parser for the data messages Tolk's interpreter publishes in a LiveKit room (spec 001 "Data
 * Messages", docs/rooms.md): reliable packets of UTF-8 JSON on the topic `transcript`. Unknown types
 * and malformed packets parse to `undefined` and are ignored, so a newer server does not break the page.
 */
import { isRecord } from './http';

/** One `original_transcript` or `translated_transcript` message. */
export interface RoomTranscript {
  kind: 'original' | 'translated';
  text: string;
  /** `false` only for an interim original (it replaces the previous interim); translations are final. */
  isFinal: boolean;
  /** When the interpreter published it, Unix time in milliseconds (spec 001 sends seconds). */
  timestampMs: number | undefined;
  /** The session's source language (`language_detected`), e.g. `en-US`. */
  languageDetected: string | undefined;
  /** Spec-000 rooms only: who spoke (`speaker_name`). */
  speakerName: string | undefined;
}

const decoder = new TextDecoder();

/**
 * Parses one data packet's payload.
 * @returns the transcript, or `undefined` for anything that is not a known transcript message.
 */
export function parseRoomMessage(payload: Uint8Array): RoomTranscript | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.text !== 'string') return undefined;
  const kind = value.type === 'original_transcript' ? 'original' : value.type === 'translated_transcript' ? 'translated' : undefined;
  if (!kind) return undefined;
  return {
    kind,
    text: value.text,
    isFinal: kind === 'translated' || value.is_final !== false,
    timestampMs: typeof value.timestamp === 'number' && Number.isFinite(value.timestamp) ? Math.round(value.timestamp * 1000) : undefined,
    languageDetected: typeof value.language_detected === 'string' && value.language_detected ? value.language_detected : undefined,
    speakerName: typeof value.speaker_name === 'string' && value.speaker_name ? value.speaker_name : undefined,
  };
}

/**
 * A data packet's transcript when, and only when, the interpreter sent it: anyone in a LiveKit room
 * can publish data on any topic, so a packet from another participant — however well formed — is
 * ignored (docs/security.md "LiveKit rooms").
 * @param senderIdentity - the sending participant's identity (`undefined` for server-sent packets).
 * @param interpreterIdentity - the interpreter's identity (`tolk-interpreter`).
 */
export function parseInterpreterMessage(payload: Uint8Array, senderIdentity: string | undefined, interpreterIdentity: string): RoomTranscript | undefined {
  if (senderIdentity !== interpreterIdentity) return undefined;
  return parseRoomMessage(payload);
}
