import type { CallLeg, CallSession, ProviderStatus } from './model.js';

/**
 * The seam between call sessions (spec 004) and a telephony provider. The calls side owns sessions,
 * the stream socket, recording and webhooks; the provider side (Twilio: REST client, status
 * callbacks, Media Streams socket, inbound TwiML) implements {@link CallTelephony} and calls back
 * through {@link CallControl}. Neither side imports the other's modules.
 */
export interface CallTelephony {
  /** The provider type this implementation serves (spec 004 `provider.type`). */
  readonly type: 'twilio';
  /**
   * Places the session's outbound call to `session.provider.phoneNumber`, whose media the provider
   * then streams back (Twilio: a Media Streams socket that calls {@link CallControl.attachMediaLeg}).
   * Progress is reported through {@link CallControl.reportProviderStatus}.
   * @returns the provider's call id (Twilio `CallSid`).
   * @throws {Error} when the provider refuses the call (the calls side marks the provider `failed`).
   */
  placeCall(session: CallSession): Promise<{ providerCallId: string }>;
  /**
   * Ends the provider call (`POST /v1/sessions/{id}/end`, or the session ending otherwise). Must be
   * safe to call for a call that already ended.
   */
  hangUp(providerCallId: string): Promise<void>;
}

/** Audio encodings a media leg may carry (spec 004 stream audio: PCM16, µ-law, A-law). */
export type MediaEncoding = 'pcm16' | 'mulaw' | 'alaw';

/** Format of a media leg's audio both ways: mono, little-endian for `pcm16`. */
export interface MediaFormat {
  encoding: MediaEncoding;
  /** 8000, 16000, 24000 or 48000 (Twilio Media Streams: `mulaw` at 8000). */
  sampleRateHz: number;
}

/** What the calls side sends to a media leg: the translated (or agent) audio the far end should hear. */
export interface MediaLegSink {
  /** Audio in the leg's {@link MediaFormat}, in chunks of any size (the provider frames it). */
  sendAudio(chunk: Buffer): void;
  /**
   * Drops audio queued but not yet played (barge-in; Twilio Media Streams `clear`: the Twilio
   * surface maps it onto its audio output, docs/architecture.md "Audio output"). Optional.
   */
  clearAudio?(): void;
  /** The session ended or the leg was replaced: close the provider's media socket. */
  close(reason: string): void;
}

/** A media leg attached to a session: the provider pushes the caller's audio into it. */
export interface MediaLeg {
  /** Audio the leg received from its caller, in the leg's {@link MediaFormat}. */
  pushAudio(chunk: Buffer): void;
  /** The provider's media stream stopped (Twilio `stop`, socket closed). Idempotent. */
  end(): Promise<void>;
}

/** A provider status change (Twilio status callbacks mapped to spec 004 `provider.status`). */
export interface ProviderStatusUpdate {
  status: ProviderStatus;
  /** The provider's call id when known (Twilio `CallSid`). */
  providerCallId?: string | undefined;
  /** Why the call failed or ended, for the operator (`busy`, `no-answer`, …). */
  reason?: string | undefined;
}

/**
 * What the telephony side may do to call sessions; `AppContext.calls` holds this process's
 * implementation. Every method checks that the session exists and is not ended.
 */
export interface CallControl {
  /**
   * Records a provider status change, moves the session along (`connected` → session `active`;
   * `completed`/`failed` with no other live leg → session `ended`) and sends the webhook events
   * (`session.provider.connected`, `session.provider.disconnected`).
   * @throws {AppError} NOT_FOUND for an unknown session id.
   */
  reportProviderStatus(sessionId: string, update: ProviderStatusUpdate): Promise<void>;
  /**
   * Attaches a provider media stream as one leg of the session (normally `customer`): its audio is
   * transcribed, translated for the other leg and recorded; the other leg's translated speech (or
   * the AI agent's voice) comes back through `sink` in `format`.
   * @throws {AppError} NOT_FOUND for an unknown session, CONFLICT when it has ended.
   */
  attachMediaLeg(sessionId: string, leg: CallLeg, format: MediaFormat, sink: MediaLegSink): Promise<MediaLeg>;
  /**
   * Checks a stream token (spec 004 `stream.token`, `kst_…`) presented by a provider media socket
   * (e.g. a TwiML `<Parameter name="token">`) for `sessionId`.
   * @returns true when the token belongs to the session and has not expired.
   */
  verifyStreamToken(sessionId: string, token: string): Promise<boolean>;
  /** The session, for building TwiML or placing calls; undefined when unknown. */
  getSession(sessionId: string): Promise<CallSession | undefined>;
}
