/*
 * What Tolk's interpreter publishes in a LiveKit room (docs/rooms.md "Room protocol"): spec 001's
 * data messages and LiveKit's transcription text streams. Pure shapes, no LiveKit calls.
 */

/** The topic of LiveKit's transcription text streams (what LiveKit's client components show as captions). */
export const TRANSCRIPTION_TOPIC = 'lk.transcription';

/** The topic under which the spec-001 data messages are published (clients may ignore it). */
export const TRANSCRIPT_DATA_TOPIC = 'transcript';

/** A data message of spec 001 ("Data Messages"), as JSON on a reliable data packet. */
export interface TranscriptMessage {
  type: 'original_transcript' | 'translated_transcript';
  text: string;
  /** When the interpreter published it: Unix time in seconds, fractional (ms precision). */
  timestamp: number;
  /** Interims (`false`) only for `original_transcript`; a `translated_transcript` is always final. */
  is_final: boolean;
  /** The language the segment was recognized in (BCP 47, the session's source language). */
  language_detected: string;
  /**
   * Spec 000 rooms only (not part of spec 001's shape): who spoke, so clients can show the
   * `speaker_name` with the transcript.
   */
  speaker_name?: string;
  participant_id?: string;
}

/** Who spoke a segment: added to the messages of spec-000 rooms only. */
export interface SpeakerLabel {
  participantId: string;
  speakerName: string;
}

/**
 * Builds a spec-001 data message.
 * @param nowMs - wall time of publication, in ms since the Unix epoch.
 * @param speaker - set only for spec-000 rooms; spec-001 messages keep the spec's exact fields.
 */
export function transcriptMessage(
  type: TranscriptMessage['type'], text: string, isFinal: boolean, languageDetected: string, nowMs: number, speaker?: SpeakerLabel,
): TranscriptMessage {
  return {
    type, text, timestamp: nowMs / 1000, is_final: type === 'translated_transcript' ? true : isFinal, language_detected: languageDetected,
    ...(speaker ? { speaker_name: speaker.speakerName, participant_id: speaker.participantId } : {}),
  };
}

/** Encodes a data message as the UTF-8 JSON payload of a data packet. */
export function encodeMessage(message: TranscriptMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** The attributes of one `lk.transcription` text stream (LiveKit's transcription convention). */
export interface TranscriptionAttributes {
  /** Identifies the segment: interims and the final of one utterance share it, so captions update in place. */
  'lk.segment_id': string;
  /** `"true"` for the final text of the segment, `"false"` for an interim. */
  'lk.transcription_final': 'true' | 'false';
  /** The track the text transcribes: the speaker's microphone, or the interpreter's translated-speech track. */
  'lk.transcribed_track_id'?: string;
  /** BCP 47 language of the text. */
  language: string;
  [key: string]: string | undefined;
}

/**
 * The attributes of the text stream of one segment.
 * @param segmentId - the utterance id for an original transcript; `<utteranceId>:<target>` for its translation.
 * @param trackSid - the transcribed track's sid, when known.
 */
export function transcriptionAttributes(segmentId: string, isFinal: boolean, language: string, trackSid: string | undefined): Record<string, string> {
  const attributes: TranscriptionAttributes = { 'lk.segment_id': segmentId, 'lk.transcription_final': isFinal ? 'true' : 'false', language };
  if (trackSid) attributes['lk.transcribed_track_id'] = trackSid;
  return attributes as Record<string, string>;
}
