import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.js';
import { addSessionUsage } from '../domain/sessions.js';
import { recordFinalUtterance, recordUtteranceEnd, recordUtteranceTranslation } from '../domain/utterances.js';
import type { DictionarySource } from '../pipeline/glossary.js';
import type { PipelineEvent } from '../pipeline/translation-pipeline.js';

/** A final transcript event of the pipeline. */
export type FinalTranscriptEvent = Extract<PipelineEvent, { type: 'transcript' }>;
/** A translation event of the pipeline. */
export type TranslationEvent = Extract<PipelineEvent, { type: 'translation' }>;
/** The end of an utterance, with its latency marks. */
export type UtteranceEndEvent = Extract<PipelineEvent, { type: 'utterance-end' }>;

/**
 * What a `/vt` connection gets from the session runtime once its key is accepted: the settings its
 * pipeline runs with, and hooks it calls as it sends events. Hooks never throw and never wait: the
 * work they cause (database writes) runs behind the stream and failures are logged.
 */
export interface AttachedStream {
  /** BCP-47 tags the pipeline uses (a session's languages for a session-bound stream). */
  readonly sourceLanguage: string;
  readonly targetLanguage: string;
  /** STT vocabulary: the config's words plus the organization's glossary source words. */
  readonly vocabulary: readonly string[];
  /** Read before each utterance: the config's dictionary, then the organization's glossary. */
  readonly dictionary: DictionarySource;
  /** A final transcript was just sent to the client. */
  finalSent(event: FinalTranscriptEvent): void;
  /** A translation was just sent to the client. */
  translationSent(event: TranslationEvent): void;
  /** An utterance's events are all out (also called while the connection is closing). */
  utteranceEnded(event: UtteranceEndEvent): void;
  /** Audio was received from the client, `durationMs` long. */
  audioReceived(durationMs: number): void;
  /**
   * The worker synthesized `pcm` (s16le mono at `sampleRateHz`, the stream's target language): a
   * session's stream shares it with the session's listeners ({@link SessionSpeechHub}).
   */
  speechSynthesized(pcm: Buffer, sampleRateHz: number): void;
  /** The connection ended and its pipeline is closed: finish the stream's writes. Idempotent. */
  close(): Promise<void>;
}

/** Settings common to every attached stream. */
export interface StreamSettings {
  sourceLanguage: string;
  targetLanguage: string;
  vocabulary: readonly string[];
  dictionary: DictionarySource;
  /** Called once when the stream closes (the runtime forgets the connection). */
  onClosed?: (() => void | Promise<void>) | undefined;
}

/** A stream that belongs to no session: the organization's glossary applies, nothing is recorded. */
export class OrganizationStream implements AttachedStream {
  readonly sourceLanguage: string;
  readonly targetLanguage: string;
  readonly vocabulary: readonly string[];
  readonly dictionary: DictionarySource;
  private closed: Promise<void> | undefined;

  constructor(private readonly settings: StreamSettings) {
    this.sourceLanguage = settings.sourceLanguage;
    this.targetLanguage = settings.targetLanguage;
    this.vocabulary = settings.vocabulary;
    this.dictionary = settings.dictionary;
  }

  finalSent(_event: FinalTranscriptEvent): void {}
  translationSent(_event: TranslationEvent): void {}
  utteranceEnded(_event: UtteranceEndEvent): void {}
  audioReceived(_durationMs: number): void {}
  speechSynthesized(_pcm: Buffer, _sampleRateHz: number): void {}
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.settings.onClosed?.();
    })();
    return this.closed;
  }
}

/** How often received audio is added to the session's `usage_ms`, in ms. */
const SESSION_USAGE_FLUSH_MS = 5000;

/** What a {@link SessionStream} records against. */
export interface SessionStreamOptions extends StreamSettings {
  db: () => Database;
  log: FastifyBaseLogger;
  organizationId: string;
  sessionId: string;
  participantId: string;
  speakerName: string;
  /** `transcript.final` of the config: false means the client is sent no finals. */
  sendsFinals: boolean;
  /** `transcript.translate` of the config. */
  sendsTranslations: boolean;
  /** Called once, after the stream's last write: the runtime decides whether the session completes. */
  onClosed: () => Promise<void>;
  /** Shares the stream's synthesized speech with the session's listeners. */
  onSpeech?: ((pcm: Buffer, sampleRateHz: number) => void) | undefined;
}

/**
 * A stream of a platform session (spec 000): records each final transcript in `utterances` when it
 * is sent, adds its translation when that is sent and its latency marks at the utterance's end,
 * and adds the audio received to the session's usage. Writes run in order on one queue behind the
 * stream; a failed write is logged and the stream goes on.
 */
export class SessionStream extends OrganizationStream {
  private writes: Promise<void> = Promise.resolve();
  private readonly recorded = new Set<string>();
  private readonly translated = new Set<string>();
  private pendingUsageMs = 0;
  private readonly usageTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: SessionStreamOptions) {
    super(o);
    this.usageTimer = setInterval(() => this.flushUsage(), SESSION_USAGE_FLUSH_MS);
    this.usageTimer.unref();
  }

  override finalSent(e: FinalTranscriptEvent): void {
    this.insert(e.utteranceId, e.text, e.startedAt, e.durationMs, null);
  }

  override translationSent(e: TranslationEvent): void {
    if (!this.recorded.has(e.utteranceId)) return;
    this.translated.add(e.utteranceId);
    this.enqueue('utterance translation', () => recordUtteranceTranslation(this.o.db(), e.utteranceId, e.text));
  }

  override utteranceEnded(e: UtteranceEndEvent): void {
    // With finals (or translations) turned off the client is sent none; the session still keeps them.
    if (!this.o.sendsFinals && e.transcript) this.insert(e.utteranceId, e.transcript, e.startedAt, e.durationMs, this.o.sendsTranslations ? null : e.translation);
    if (!this.recorded.has(e.utteranceId)) return;
    if (!this.o.sendsTranslations && !this.translated.has(e.utteranceId)) {
      this.translated.add(e.utteranceId);
      this.enqueue('utterance translation', () => recordUtteranceTranslation(this.o.db(), e.utteranceId, e.translation));
    }
    const l = e.latency;
    this.enqueue('utterance end', () => recordUtteranceEnd(this.o.db(), e.utteranceId, {
      finalMs: l.finalTranscriptMs, translationMs: l.translationMs, firstAudioMs: l.firstAudioByteMs,
    }, e.confidence));
  }

  override audioReceived(durationMs: number): void {
    this.pendingUsageMs += durationMs;
  }

  override speechSynthesized(pcm: Buffer, sampleRateHz: number): void {
    if (!this.closing) this.o.onSpeech?.(pcm, sampleRateHz);
  }

  override close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.usageTimer);
      this.flushUsage();
      await this.writes;
      await this.o.onClosed();
    })();
    return this.closing;
  }

  private insert(id: string, text: string, startedAt: Date, durationMs: number, translation: string | null): void {
    if (this.recorded.has(id)) return;
    this.recorded.add(id);
    if (translation !== null) this.translated.add(id);
    const o = this.o;
    this.enqueue('utterance', () => recordFinalUtterance(o.db(), {
      id, sessionId: o.sessionId, organizationId: o.organizationId, participantId: o.participantId, speakerName: o.speakerName,
      sourceLang: o.sourceLanguage, targetLang: o.targetLanguage, text, confidence: null, startedAt, durationMs, translation,
    }));
  }

  private flushUsage(): void {
    const ms = Math.floor(this.pendingUsageMs);
    if (ms <= 0) return;
    this.pendingUsageMs -= ms;
    this.enqueue('usage', () => addSessionUsage(this.o.db(), this.o.sessionId, ms));
  }

  private enqueue(what: string, write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => {
      this.o.log.error({ err, sessionId: this.o.sessionId, write: what }, 'session write failed');
    });
  }
}
