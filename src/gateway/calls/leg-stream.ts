import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { StreamRequest } from '../../core/stream-request.js';
import { StreamSession, type StreamEnd, type StreamTransport } from '../../core/stream-session.js';
import type { CallLeg } from '../../domain/calls/model.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import { streamSessionDeps } from '../stream-service.js';
import { CALL_RATE_HZ } from './call-audio.js';

/** Where a {@link LegStream} reports. */
export interface LegStreamHandlers {
  onEvent(event: WorkerEvent): void;
  /** Synthesized speech of the translation, s16le mono at {@link CALL_RATE_HZ}. */
  onAudio(pcm: Buffer): void;
  /**
   * The stream could not open or ended with an error: `status` and description for the leg's
   * participants; `final` when the leg will not try again (its participants should be closed).
   */
  onFailure(status: number, description: string, final?: boolean): void;
  /** The API key behind the call was rotated or deleted (401), or its grant refused (403): the call's sockets end. */
  onRevoked(status: number, description: string): void;
}

/**
 * One leg's speech (docs/architecture.md "Stream session"): recognized in the leg's language,
 * translated into the other leg's and spoken — a {@link StreamSession} of surface `calls` opened
 * under the session creator's grant on the leg's first audio, so it has what every stream has:
 * admission, slots, glossary, usage, early audio, revocation when the key is rotated or deleted,
 * `tolk_streams_active`, and the idle timeout — a leg that sends no audio for
 * `TOLK_IDLE_AUDIO_TIMEOUT_MS` gives back its slot and recognizer (its sockets may stay open,
 * listening) and the next audio opens a new stream. A failure is reported once and the next audio
 * tries again, unless the request itself was refused (a 4xx other than 408/429, such as a language
 * no engine serves): then the leg stays failed and its audio is dropped.
 */
export class LegStream {
  private session: StreamSession | undefined;
  private closed = false;
  /** Set when opening was refused for good (the request is wrong, retrying cannot help). */
  private refused = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly grant: SessionKeyGrant,
    readonly leg: CallLeg,
    /** `simultaneous`: the session's `transcription.simultaneous` (docs/calls.md "Simultaneous mode"). */
    private readonly languages: { source: string; target: string; translate: boolean; simultaneous?: boolean },
    private readonly handlers: LegStreamHandlers,
    private readonly log: FastifyBaseLogger,
    /** The `tolk_streams_active` label: a call's leg, or a phone callee in a platform session. */
    private readonly surface: 'calls' | 'phone' = 'calls',
  ) {}

  /** Audio the worker has not taken yet, in ms (0 unless streaming). */
  get backlogMs(): number {
    return this.session?.backlogMs ?? 0;
  }

  /** Sends s16le mono at {@link CALL_RATE_HZ}, opening a stream first when none is open. */
  push(pcm: Buffer): void {
    if (this.closed || this.refused) return;
    let session = this.session;
    if (!session || (session.state !== 'opening' && session.state !== 'streaming')) {
      session = this.session = new StreamSession(streamSessionDeps(this.ctx), this.surface, this.request(), this.transport(() => session), this.log);
      void session.start();
    }
    session.pushAudio(pcm);
  }

  /** Ends the stream: the utterance in flight may finish (its events still arrive). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.session?.shutdown();
  }

  private request(): StreamRequest {
    return {
      sourceLanguage: this.languages.source, targetLanguage: this.languages.target,
      audio: { format: 'pcm_s16le', sampleRateHz: CALL_RATE_HZ, channels: 1 }, voice: 'female',
      vocabulary: [], glossary: [], transcript: { interim: true, final: true, translate: this.languages.translate },
      ...(this.languages.simultaneous ? { features: { simultaneous: true } } : {}),
      credential: { kind: 'grant', grant: this.grant },
    };
  }

  /** The leg as its session's surface: events to the room, and what each end means for the call. */
  private transport(session: () => StreamSession | undefined): StreamTransport {
    return {
      event: (event) => {
        if (event.type === 'error') this.handlers.onFailure(event.status, event.description);
        else this.handlers.onEvent(event);
        return true;
      },
      audio: (pcm) => this.handlers.onAudio(pcm),
      end: (end) => this.ended(end, session()?.state === 'opening'),
    };
  }

  private ended(end: StreamEnd, opening: boolean): void {
    if (!('status' in end)) {
      // A worker's close, its error (if any) already reported: the next audio opens a new stream.
      if (end.code >= 4000) this.log.info({ code: end.code, reason: end.reason, leg: this.leg }, 'call leg stream ended');
      return;
    }
    const { status, description } = end;
    if (status === 401 || status === 403) {
      this.refused = true;
      return this.handlers.onRevoked(status, description);
    }
    if (status === 408 && !opening) return this.log.info({ leg: this.leg }, 'call leg idle: its stream was given back');
    this.refused = opening && status >= 400 && status < 500 && status !== 408 && status !== 429;
    this.handlers.onFailure(status, description, this.refused);
  }
}
