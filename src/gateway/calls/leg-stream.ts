import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CallLeg } from '../../domain/calls/model.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import type { StreamConfig } from '../stream-config.js';
import { openGrantedStream, type GatewayStream } from '../stream-service.js';
import { CALL_RATE_HZ } from './call-audio.js';

/** Audio kept while a leg's stream opens, at most, in ms. */
const MAX_PENDING_MS = 30_000;
/** On close, how long the worker may finish the utterance in flight, in ms. */
const FINISH_TIMEOUT_MS = 2000;

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
}

/**
 * One leg's speech through the stream service (docs/architecture.md "Processes"): recognized in the leg's language,
 * translated into the other leg's and spoken — a spec-002 stream opened with
 * {@link openGrantedStream} under the session creator's key (admission, slots, glossary, usage),
 * on its first audio. Audio sent while it opens waits (bounded); a failure is reported once, and
 * the next audio tries again — unless the request itself was refused (a 4xx other than 408/429,
 * such as a language no engine serves): then the leg stays failed and its audio is dropped.
 */
export class LegStream {
  private stream: GatewayStream | undefined;
  private opening: Promise<void> | undefined;
  private pending: Buffer[] = [];
  private pendingMs = 0;
  private closed = false;
  /** Set when opening was refused for good (the request is wrong, retrying cannot help). */
  private refused = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly grant: SessionKeyGrant,
    readonly leg: CallLeg,
    private readonly languages: { source: string; target: string; translate: boolean },
    private readonly handlers: LegStreamHandlers,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Audio the worker has not taken yet, in ms (0 before the stream opened). */
  get backlogMs(): number {
    return this.stream?.link.backlogMs ?? 0;
  }

  /** Sends s16le mono at {@link CALL_RATE_HZ}, opening the stream first when needed. */
  push(pcm: Buffer): void {
    if (this.closed || this.refused) return;
    const durationMs = (pcm.length / 2 / CALL_RATE_HZ) * 1000;
    if (this.stream) {
      this.stream.link.sendAudio(pcm);
      this.stream.audioReceived(durationMs);
      return;
    }
    if (this.pendingMs + durationMs <= MAX_PENDING_MS) {
      this.pending.push(pcm);
      this.pendingMs += durationMs;
    }
    this.opening ??= this.open().finally(() => (this.opening = undefined));
  }

  /** Ends the stream: the utterance in flight may finish (its events still arrive). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening;
    await this.stream?.close(FINISH_TIMEOUT_MS);
    this.stream = undefined;
  }

  /** Ends at once, for a revocation: no more events. */
  disconnect(status: number, description: string): void {
    this.handlers.onFailure(status, description);
    void this.close();
  }

  private config(): StreamConfig {
    return {
      audio: { format: 'pcm_s16le', sample_rate: CALL_RATE_HZ, channels: 1 },
      source_language: this.languages.source, target_language: this.languages.target, voice: 'female',
      vocabulary: [], translation_dictionary: [], transcript: { interim: true, final: true, translate: this.languages.translate },
    };
  }

  private async open(): Promise<void> {
    try {
      const result = await openGrantedStream(this.ctx, this.grant, {
        config: this.config(), log: this.log, isOpen: () => !this.closed,
        connection: { disconnect: (status, description) => this.disconnect(status, description) },
        handlers: {
          onEvent: (event) => {
            if (event.type === 'error') this.handlers.onFailure(event.status, event.description);
            else this.handlers.onEvent(event);
            this.stream?.delivered(event);
          },
          onAudio: (pcm) => this.handlers.onAudio(pcm),
          onClose: (code, reason) => {
            this.stream = undefined;
            if (code >= 4000 && code !== 4000 + 200) this.log.info({ code, reason, leg: this.leg }, 'call leg stream ended');
          },
        },
      });
      if (!result.ok) {
        this.pending = [];
        this.pendingMs = 0;
        if ('status' in result) {
          this.refused = result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429;
          this.handlers.onFailure(result.status, result.description, this.refused);
        }
        return;
      }
      this.stream = result.stream;
      for (const pcm of this.pending) {
        result.stream.link.sendAudio(pcm);
        result.stream.audioReceived((pcm.length / 2 / CALL_RATE_HZ) * 1000);
      }
      this.pending = [];
      this.pendingMs = 0;
    } catch (err) {
      this.log.error({ err, leg: this.leg }, 'call leg stream failed to open');
      this.handlers.onFailure(500, 'Server failed to start speech processing for this leg');
    }
  }
}
