import type { FastifyBaseLogger } from 'fastify';
import { bargeIn } from '../../core/audio-output.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import type { RoomPublisher } from './room-publisher.js';
import { transcriptionAttributes, transcriptMessage, type SpeakerLabel } from './room-messages.js';

/** Whose events a {@link SpeakerRoomEvents} renders. */
export interface SpeakerRoomEventsOptions {
  sourceLanguage: string;
  targetLanguage: string;
  /** Spec-000 rooms: added to the data messages; undefined keeps spec 001's exact shape. */
  label: SpeakerLabel | undefined;
  /** The sid of the speaker's microphone track (`lk.transcribed_track_id` of its transcripts). */
  trackSid: string | undefined;
  /** Simultaneous mode (docs/rooms.md "Simultaneous mode"); default off. */
  simultaneous?: boolean;
}

/**
 * One speaker's stream events in the LiveKit wire format (docs/rooms.md "Room protocol"): spec-001
 * data messages and `lk.transcription` text streams through the room's {@link RoomPublisher}; a new
 * utterance of the speaker takes back what still plays of the previous translation (barge-in).
 */
export class SpeakerRoomEvents {
  /** The utterance the speaker is in (its transcripts' id). */
  private speakingUtterance: string | undefined;

  constructor(
    private readonly publisher: RoomPublisher,
    private readonly o: SpeakerRoomEventsOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Publishes `event` into the room.
   * @returns a promise of true once its data message was sent (false when it failed); false for an event the room does not show.
   */
  render(event: WorkerEvent): boolean | Promise<boolean> {
    const o = this.o;
    switch (event.type) {
      case 'transcript': {
        if (event.utteranceId !== this.speakingUtterance && event.text.trim() !== '') {
          // A new utterance takes back what still plays of the previous translation (simultaneous
          // mode never takes back speech: the next utterance's segments queue after it).
          this.speakingUtterance = event.utteranceId;
          if (!o.simultaneous) bargeIn(this.publisher);
        }
        this.publisher.publishTranscription(event.text, transcriptionAttributes(event.utteranceId, event.final, o.sourceLanguage, o.trackSid));
        return this.publisher.publishMessage(transcriptMessage('original_transcript', event.text, event.final, o.sourceLanguage, Date.now(), o.label));
      }
      case 'translation':
        if (!event.final) {
          // Simultaneous mode: the spoken part so far, on LiveKit's transcription stream only (spec 001's
          // `translated_transcript` is always final); the final translation replaces it (same segment id).
          this.publisher.publishTranscription(event.text, transcriptionAttributes(`${event.utteranceId}:${o.targetLanguage}`, false, o.targetLanguage, this.publisher.trackSid));
          return false;
        }
        this.publisher.publishTranscription(event.text, transcriptionAttributes(`${event.utteranceId}:${o.targetLanguage}`, true, o.targetLanguage, this.publisher.trackSid));
        return this.publisher.publishMessage(transcriptMessage('translated_transcript', event.text, true, o.sourceLanguage, Date.now(), o.label));
      case 'error':
        this.log.warn({ status: event.status, description: event.description }, 'interpreter stream error');
        return false;
      default:
        return false;
    }
  }
}
