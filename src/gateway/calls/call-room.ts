import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { newId } from '../../domain/api-keys.js';
import type { CallLeg } from '../../domain/calls/model.js';
import { legLanguage, otherLeg, type StoredCallSession } from '../../domain/calls/sessions.js';
import { addTranscriptSegment, setSegmentTranslation } from '../../domain/calls/transcript.js';
import type { SessionKeyGrant } from '../../domain/session-keys.js';
import type { LiveConnection } from '../../realtime/connection-registry.js';
import type { WorkerEvent } from '../../realtime/worker-link.js';
import { CallRecorder, recordingsDir } from './recordings.js';
import { LegStream } from './leg-stream.js';
import type { ChatModel } from '../../providers/llm/types.js';
import { AiAgent } from './ai-agent.js';

/** An event of a call as participants receive it (rendered by each transport). */
export type CallRoomEvent =
  | { type: 'transcript'; id: string; speaker: CallLeg; language: string; text: string; isFinal: boolean; startTimeS: number; confidence: number | null }
  | { type: 'translation'; id: string; speaker: CallLeg; sourceLanguage: string; targetLanguage: string; text: string; sourceText: string }
  | { type: 'error'; speaker: CallLeg; status: number; description: string };

/** A stream socket or a provider media leg attached to a call as one leg (customer or agent). */
export interface CallParticipant {
  readonly leg: CallLeg;
  /** Transcripts and translations of both legs, and errors of its own leg. */
  send(event: CallRoomEvent): void;
  /** Audio this participant should hear: s16le mono at 16 kHz. */
  play(pcm: Buffer): void;
  /** The call ended (`reason`): close. */
  end(reason: string): void;
  /** The call's grant ended (401 key rotated or deleted, 403): the error, then a close with 4000 + status. */
  fail(status: number, description: string): void;
}

/**
 * One live call (spec 004 modes, docs/calls.md): its participants by leg, each leg's speech
 * through its own {@link LegStream} (recognized once, translated and spoken for the other leg), the
 * recording, and the transcript store. Who hears what depends on the mode:
 * `bidirectional_translation` — each leg hears the other translated; `assistive_translation` — the
 * customer hears the agent translated, the agent hears the customer's original voice and reads the
 * transcript and its translation; `ai_agent` / `help_chat_voice` — an {@link AiAgent} answers the
 * customer in their language. Every participant receives both legs' transcripts.
 */
export class CallRoom implements LiveConnection {
  private readonly participants = new Set<CallParticipant>();
  private readonly legs = new Map<CallLeg, LegStream>();
  private readonly segmentIds = new Map<string, string>();
  private readonly recorder: CallRecorder | undefined;
  private readonly startedAtMs: number;
  private ended = false;
  /** Set once the API key behind the call was rotated or deleted: nothing more is recorded or recognized. */
  private revoked = false;
  /** The AI voice agent (`ai_agent`, `help_chat_voice`), which answers the customer instead of a person. */
  private readonly agent: AiAgent | undefined;
  private greeted = false;
  /** Transcript writes, in event order (a translation is stored after its final). */
  private stored: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: AppContext,
    readonly session: StoredCallSession,
    private readonly grant: SessionKeyGrant,
    private readonly log: FastifyBaseLogger,
    llm?: ChatModel,
  ) {
    this.startedAtMs = (session.startedAt ?? new Date()).getTime();
    if (session.recording.enabled) this.recorder = new CallRecorder(recordingsDir(ctx.config.dataDir), session.id, session.recording.channels, this.startedAtMs);
    if (llm && (session.mode === 'ai_agent' || session.mode === 'help_chat_voice')) {
      this.agent = new AiAgent(session, llm, ctx.engines.tts, {
        reply: (text) => this.agentSaid(text),
        speak: (pcm) => {
          this.recorder?.write('agent', pcm);
          this.playTo('customer', pcm);
        },
        failed: (description) => this.broadcast({ type: 'error', speaker: 'agent', status: 502, description }, 'customer'),
      }, log);
    }
  }

  /** Gives back the leg streams (no participant left); the next audio opens them again. */
  async idle(): Promise<void> {
    const legs = [...this.legs.values()];
    this.legs.clear();
    await Promise.all(legs.map((l) => l.close()));
  }

  /** Gives back the leg streams and closes the recording's files, keeping them (server shutdown). */
  async suspend(): Promise<void> {
    await this.idle();
    this.recorder?.suspend();
  }

  /** The API key the call's streams run under (the session's creator). */
  get keyId(): string {
    return this.grant.keyId;
  }

  /** Participants attached now. */
  get size(): number {
    return this.participants.size;
  }

  join(participant: CallParticipant): void {
    this.participants.add(participant);
    if (this.agent && !this.greeted && participant.leg === 'customer') {
      this.greeted = true;
      this.agent.greet();
    }
  }

  leave(participant: CallParticipant): void {
    this.participants.delete(participant);
  }

  /** The worker's backlog of `leg`, in ms (the transports pause reading while it is high). */
  backlogMs(leg: CallLeg): number {
    return this.legs.get(leg)?.backlogMs ?? 0;
  }

  /** True once the API key behind the call was rotated or deleted ({@link disconnect}). */
  get isRevoked(): boolean {
    return this.revoked;
  }

  /**
   * Ends the call's live side when the API key behind it was rotated or deleted (a leg's stream
   * session was revoked, or the key's revocation reached the room): leg streams close, every
   * participant gets the error and a close with 4000 + status, and no more audio is recorded.
   * Idempotent; the session itself stays as it is (its stream token no longer connects).
   */
  disconnect(status: number, description: string): void {
    if (this.revoked || this.ended) return;
    this.revoked = true;
    void this.idle();
    for (const p of [...this.participants]) p.fail(status, description);
  }

  /** Speech of `leg` (s16le mono 16 kHz): recorded, recognized and translated for the other leg. */
  pushAudio(leg: CallLeg, pcm: Buffer): void {
    if (this.ended || this.revoked) return;
    if (this.agent && leg === 'agent') return; // the AI agent speaks for the agent leg
    this.recorder?.write(leg, pcm);
    if (this.session.mode === 'assistive_translation' && leg === 'customer') this.playTo('agent', pcm);
    this.legStream(leg).push(pcm);
  }

  /**
   * Ends the call: leg streams finish their utterance in flight, participants are told `reason`,
   * and the recording is written.
   * @returns the finished recording, when the session records.
   */
  async end(reason: string): Promise<ReturnType<CallRecorder['finish']>> {
    if (this.ended) return undefined;
    this.ended = true;
    await Promise.all([...this.legs.values()].map((l) => l.close()));
    await this.agent?.settle();
    await this.stored;
    for (const p of [...this.participants]) p.end(reason);
    this.participants.clear();
    return this.recorder?.finish();
  }

  private legStream(leg: CallLeg): LegStream {
    let stream = this.legs.get(leg);
    if (!stream) {
      const languages = {
        source: legLanguage(this.session, leg), target: legLanguage(this.session, otherLeg(leg)), translate: !this.agent,
        simultaneous: this.session.transcription?.simultaneous === true,
      };
      stream = new LegStream(this.ctx, this.grant, leg, languages, {
        onEvent: (event) => this.onLegEvent(leg, event),
        onAudio: (pcm) => this.onTranslatedAudio(leg, pcm),
        onFailure: (status, description, final) => {
          this.broadcast({ type: 'error', speaker: leg, status, description }, leg);
          if (final) for (const p of [...this.participants]) if (p.leg === leg) p.end('error');
        },
        onRevoked: (status, description) => this.disconnect(status, description),
      }, this.log);
      this.legs.set(leg, stream);
    }
    return stream;
  }

  /** Translated speech of `leg`'s words: who hears it depends on the mode. */
  private onTranslatedAudio(leg: CallLeg, pcm: Buffer): void {
    if (this.agent || (this.session.mode === 'assistive_translation' && leg === 'customer')) return; // the agent hears the original
    this.playTo(otherLeg(leg), pcm);
  }

  private playTo(leg: CallLeg, pcm: Buffer): void {
    for (const p of this.participants) if (p.leg === leg) p.play(pcm);
  }

  /** Sends `event` to every participant, or only to those of `onlyLeg`. */
  private broadcast(event: CallRoomEvent, onlyLeg?: CallLeg): void {
    for (const p of this.participants) if (!onlyLeg || p.leg === onlyLeg) p.send(event);
  }

  private segmentId(leg: CallLeg, utteranceId: string): string {
    const key = `${leg}:${utteranceId}`;
    let id = this.segmentIds.get(key);
    if (!id) this.segmentIds.set(key, (id = newId('seg')));
    return id;
  }

  /** The AI agent's reply: a final transcript of the `agent` leg, shown to everyone and stored. */
  private agentSaid(text: string): void {
    const id = newId('seg');
    const startMs = Math.max(0, Date.now() - this.startedAtMs);
    this.broadcast({ type: 'transcript', id, speaker: 'agent', language: this.session.sourceLanguage, text, isFinal: true, startTimeS: startMs / 1000, confidence: null });
    this.store(() => addTranscriptSegment(this.ctx.db, { id, sessionId: this.session.id, speaker: 'agent', language: this.session.sourceLanguage, text, startMs, endMs: startMs, confidence: null }));
  }

  /** Queues a transcript write after the ones before it. */
  private store(write: () => Promise<void>): void {
    this.stored = this.stored.then(write).catch((err: unknown) => this.log.error({ err, sessionId: this.session.id }, 'call transcript store failed'));
  }

  private onLegEvent(leg: CallLeg, event: WorkerEvent): void {
    if (event.type !== 'transcript' && event.type !== 'translation') return;
    const id = this.segmentId(leg, event.utteranceId);
    const language = legLanguage(this.session, leg);
    if (event.type === 'transcript') {
      const startTimeS = Math.max(0, Math.round(event.startedAt.getTime() - this.startedAtMs) / 1000);
      this.broadcast({ type: 'transcript', id, speaker: leg, language, text: event.text, isFinal: event.final, startTimeS, confidence: null });
      if (event.final && this.agent && leg === 'customer') this.agent.heard(event.text);
      if (event.final && event.text.trim() !== '') {
        const startMs = Math.round(startTimeS * 1000);
        this.store(() => addTranscriptSegment(this.ctx.db, { id, sessionId: this.session.id, speaker: leg, language, text: event.text, startMs, endMs: startMs + event.durationMs, confidence: null }));
      }
      return;
    }
    const targetLanguage = legLanguage(this.session, otherLeg(leg));
    this.broadcast({ type: 'translation', id, speaker: leg, sourceLanguage: language, targetLanguage, text: event.text, sourceText: event.transcript });
    if (event.final) this.store(() => setSegmentTranslation(this.ctx.db, id, targetLanguage, event.text));
  }
}
