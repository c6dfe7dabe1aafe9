import type { FastifyBaseLogger } from 'fastify';
import { primaryLanguage } from '../../common/language-tags.js';
import type { AppContext } from '../../context.js';
import type { MediaFormat, MediaLeg, MediaLegSink } from '../../domain/calls/telephony.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import { SpeechSequencer } from '../../realtime/room-speech.js';
import type { SessionSpeech } from '../../realtime/session-speech.js';
import { CallAudioCodec, type CallAudioFormat } from '../calls/call-audio.js';
import { LegStream } from '../calls/leg-stream.js';
import { callFormatOf } from '../calls/media-participant.js';

/** Silence of the speaker whose turn it is that ends the turn, in ms. */
const TURN_GAP_MS = 400;
/** Speech one waiting speaker may hold, in bytes (30 s of 16 kHz s16le); beyond it, dropped. */
const MAX_WAITING_BYTES = 30 * 32_000;

/** What a {@link PhoneLeg} joins. */
export interface PhoneLegOptions {
  ctx: AppContext;
  /** The key that placed the call, bound to the session as the callee (`speaks: 'target'`). */
  grant: SessionKeyGrant;
  /** The platform session (spec 000): id and language pair. */
  session: { id: string; sourceLang: string; targetLang: string };
  /** The callee's participant id (`phone:<CallSid>`). */
  participantId: string;
  /** The provider's media format both ways (Twilio Media Streams: `pcm16` at 8000 Hz after µ-law). */
  format: MediaFormat;
  /** Where the callee's audio goes: the provider's media socket. */
  sink: MediaLegSink;
  /** The callee's stream was refused or failed (`status`, description): the call is to end. */
  onFailure(status: number, description: string): void;
  log: FastifyBaseLogger;
}

/**
 * A phone callee inside a platform session (docs/phone.md "Twilio"), the spec-000 counterpart of
 * the calls surface's media participant:
 * - what the callee says (the session's target language) runs through a {@link LegStream} —
 *   the stream service with admission, a stream slot, the session's glossary and engines —
 *   translated into the session's source language; its finals and translations are recorded as the
 *   session's utterances under the callee's participant and its audio counts in the session's usage;
 * - what the callee hears is the target-language speech the session's other streams in this
 *   process synthesize ({@link SessionSpeechHub}), resampled and handed to the provider's sink
 *   (µ-law 20 ms frames on a Twilio Media Stream). One speaker's utterance at a time
 *   (the {@link SpeechSequencer} of conversation rooms, its turns ending after a gap): a second
 *   stream speaking meanwhile follows, never interleaved.
 */
export class PhoneLeg {
  /** The {@link MediaLeg} the provider's media socket pushes into. */
  readonly mediaLeg: MediaLeg;
  private readonly format: CallAudioFormat;
  private readonly inbound = new CallAudioCodec();
  /** One codec per speaking participant, so each one's resampler keeps its own state. */
  private readonly outbound = new Map<string, CallAudioCodec>();
  private readonly stream: LegStream;
  private readonly unsubscribe: () => void;
  /** A speaker's turn ends after {@link TURN_GAP_MS} of no speech (speech is synthesized faster than it plays). */
  private readonly turns = new SpeechSequencer((_speaker, bytes) => this.o.sink.sendAudio(bytes), TURN_GAP_MS, { turnsByGap: true, maxWaitingBytes: MAX_WAITING_BYTES });
  private ending: Promise<void> | undefined;

  constructor(private readonly o: PhoneLegOptions) {
    this.format = callFormatOf(o.format);
    const languages = { source: o.session.targetLang, target: o.session.sourceLang, translate: true };
    this.stream = new LegStream(o.ctx, o.grant, 'customer', languages, {
      // The callee talking over what plays to them drops the rest of it (barge-in, Twilio `clear`).
      onEvent: (event) => {
        if (event.type === 'transcript' && !this.ending) {
          this.turns.clear();
          o.sink.clearAudio?.();
        }
      },
      // The callee's own translated speech goes to the session's listeners through the stream service.
      onAudio: () => {},
      onFailure: (status, description) => this.failed(status, description),
      // The key that placed the call was rotated or deleted: the call ends.
      onRevoked: (status, description) => this.failed(status, description),
    }, o.log, 'phone');
    this.unsubscribe = o.ctx.sessions.speech.subscribe(o.session.id, (speech) => this.hear(speech));
    this.mediaLeg = {
      pushAudio: (chunk) => {
        if (!this.ending) this.stream.push(this.inbound.decode(chunk, this.format));
      },
      end: () => this.end(),
    };
  }

  private failed(status: number, description: string): void {
    this.o.log.warn({ sessionId: this.o.session.id, participantId: this.o.participantId, status, description }, 'phone callee stream refused or failed');
    if (!this.ending) this.o.onFailure(status, description);
  }

  /** Speech of another stream of the session in the callee's language: on to the call now. */
  private hear(speech: SessionSpeech): void {
    if (this.ending || speech.participantId === this.o.participantId) return;
    if (primaryLanguage(speech.language) !== primaryLanguage(this.o.session.targetLang)) return;
    let codec = this.outbound.get(speech.participantId);
    if (!codec) this.outbound.set(speech.participantId, (codec = new CallAudioCodec()));
    const pcm = codec.decode(speech.pcm, { encoding: 'pcm_16', sampleRateHz: speech.sampleRateHz, channels: 1 });
    const bytes = codec.encode(pcm, this.format);
    if (bytes.length > 0) this.turns.push(speech.participantId, speech.participantId, bytes);
  }

  /** Ends the call's media from Tolk's side: the provider's socket closes, then {@link end}. */
  close(reason: string): Promise<void> {
    if (!this.ending) this.o.sink.close(reason);
    return this.end();
  }

  /** Stops hearing the session and ends the callee's stream (its utterance in flight finishes). Idempotent. */
  end(): Promise<void> {
    return (this.ending ??= (async () => {
      this.unsubscribe();
      this.turns.clear();
      this.outbound.clear();
      await this.stream.close();
    })());
  }
}
