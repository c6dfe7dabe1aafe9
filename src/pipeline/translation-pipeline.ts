import { randomUUID } from 'node:crypto';
import { StreamingResampler } from '../audio/resampler.js';
import { primaryLanguage } from '../common/language-tags.js';
import { SpeechDetector } from '../providers/vad/speech-detector.js';
import type { VadEvent } from '../providers/vad/types.js';
import type { Engines } from '../providers/registry.js';
import type { SttStream, SttTranscript } from '../providers/stt/types.js';
import type { DictionaryEntry } from './glossary.js';
import { synthesizePcm, translateWithGlossary } from './translate-speak.js';
import { LatencyClock } from './latency.js';
import type { PipelineEvent, PipelineOptions } from './pipeline-types.js';
import { DEFAULT_PREEMPTIVE_PAUSE_MS, Preemption, preemptiveFromEnv, type SpokenTranslation } from './preemptive-synthesis.js';
import { SimultaneousSpeech } from './simultaneous-speech.js';

/** Past this backlog (audio not yet decoded, in ms) a stream does not speculate: it is far behind already. */
const MAX_BACKLOG_TO_SPECULATE_MS = 1000;

export type { PipelineEvent, PipelineOptions } from './pipeline-types.js';

interface Utterance {
  id: string;
  startAudioMs: number;
  endAudioMs: number;
  interimSent: boolean;
}

/**
 * One speaker's streaming pipeline: ingest → VAD/endpointing → STT → MT (+glossary) → TTS → egress
 * (docs/architecture.md "The pipeline"). Audio goes in with `push`; events come out through `emit` in utterance order. MT and
 * TTS of an utterance overlap with recognition of the next one; translated speech of consecutive
 * utterances is never interleaved.
 */
export class TranslationPipeline {
  private readonly ingest: StreamingResampler;
  private readonly egressRate: number;
  private vad: SpeechDetector | undefined;
  private readonly clock = new LatencyClock();
  private stt: SttStream | undefined;
  private readonly decodeOrder: Utterance[] = [];
  private current: Utterance | undefined;
  private output: Promise<void> = Promise.resolve();
  private consumer: Promise<void> = Promise.resolve();
  private streamStartWallMs: number | undefined;
  /** Audio pushed so far (the VAD's timeline), in ms. */
  private audioMs = 0;
  /** The STT stream translates each final itself (an MT engine `fromRecognizer` it, e.g. Soniox). */
  private recognizerTranslates = false;
  private failed = false;
  private closed = false;
  /** The dictionary last read from a {@link DictionarySource} (kept when a read fails). */
  private lastDictionary: readonly DictionaryEntry[] = [];
  /** Preemptive synthesis, when on for this stream. */
  private preemption: Preemption | undefined;
  /** The open utterance is in a pause reported by the VAD (speculation may start). */
  private pausedUtteranceId: string | undefined;
  /** Simultaneous mode, when the stream asked for it (docs/stream-protocol.md "Simultaneous mode"). */
  private simultaneous: SimultaneousSpeech | undefined;

  /**
   * @param engines - the process's providers.
   * @param options - validated stream settings.
   * @param emit - receives every event; must not throw.
   */
  constructor(
    private readonly engines: Engines,
    private readonly options: PipelineOptions,
    private readonly emit: (event: PipelineEvent) => void,
  ) {
    const sttRate = engines.stt.capabilities.sampleRateHz;
    this.ingest = new StreamingResampler(options.sampleRateHz, sttRate);
    this.egressRate = options.sampleRateHz;
  }

  /**
   * Opens the recognition stream and the VAD. Call once before `push`.
   * @throws {Error} when the STT engine, the Silero model or the noise suppressor cannot start.
   */
  async start(): Promise<void> {
    const { sourceLanguage, targetLanguage, vocabulary, mode, endpointSilenceMs, maxUtteranceMs, vad, backgroundVoiceCancellation } = this.options;
    const { stt: recognizer, mt } = this.engines;
    this.recognizerTranslates = mode !== 'recognize' && mt.capabilities.fromRecognizer === recognizer.name
      && recognizer.capabilities.translation === true && primaryLanguage(sourceLanguage) !== primaryLanguage(targetLanguage);
    const simultaneous = mode !== 'recognize' && !this.recognizerTranslates && this.options.simultaneous === true;
    // Simultaneous mode commits at a pause what preemption would speculate on: one or the other.
    const preemptive = mode !== 'recognize' && !this.recognizerTranslates && !simultaneous && (this.options.preemptive ?? preemptiveFromEnv());
    const pauseMs = preemptive || simultaneous ? (this.options.preemptivePauseMs ?? DEFAULT_PREEMPTIVE_PAUSE_MS) : 0;
    this.vad = await SpeechDetector.open(
      { sampleRateHz: recognizer.capabilities.sampleRateHz, endpointSilenceMs, maxUtteranceMs, vad, noiseSuppression: backgroundVoiceCancellation, pauseMs },
      (events) => this.handleVad(events),
      (err) => this.fail(err),
    );
    try {
      const translation = this.recognizerTranslates ? { translateTo: targetLanguage, translationTerms: await this.currentDictionary() } : {};
      this.stt = await recognizer.open({ language: sourceLanguage, vocabulary, engines: this.options.engines?.stt, ...translation });
    } catch (err) {
      this.vad.close();
      throw err;
    }
    const stt = this.stt;
    if (preemptive && stt.hypothesis) this.preemption = new Preemption((text) => this.speculate(text));
    if (simultaneous) this.simultaneous = this.openSimultaneous();
    this.consumer = (async () => {
      for await (const t of stt) this.onTranscript(t);
    })().catch((err: unknown) => this.fail(err));
  }

  /** Audio received but not yet decoded, in ms: the transport pauses reading while it is high. */
  get backlogMs(): number {
    return (this.stt?.pendingMs ?? 0) + (this.vad?.pendingMs ?? 0);
  }

  /**
   * Feeds inbound audio (mono s16 at the stream's rate).
   * @param arrivedAtMs - wall-clock time the audio arrived (default now); audio buffered while the
   *   pipeline started carries its real arrival time, so utterance times and latency marks stay true.
   */
  push(samples: Int16Array, arrivedAtMs = Date.now()): void {
    if (this.closed || this.failed || !this.stt) return;
    const now = arrivedAtMs;
    this.streamStartWallMs ??= now;
    const resampled = this.ingest.process(samples);
    this.audioMs += (resampled.length * 1000) / this.engines.stt.capabilities.sampleRateHz;
    this.clock.arrived(resampled.length, this.engines.stt.capabilities.sampleRateHz, now);
    this.vad?.push(resampled);
  }

  /**
   * Ends the stream: closes any open utterance, waits (at most `timeoutMs`) for its events, then
   * releases the engines.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stt = this.stt;
    const drained = (async () => {
      if (!this.failed) await this.vad?.finish();
      this.vad?.close();
      await stt?.close();
      await this.consumer;
      await this.output;
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.vad?.close();
    this.preemption?.discard();
  }

  private handleVad(events: VadEvent[]): void {
    const stt = this.stt;
    if (!stt) return;
    for (const e of events) {
      if (e.type === 'speech-start') {
        this.current = { id: randomUUID(), startAudioMs: e.atMs, endAudioMs: e.atMs, interimSent: false };
        this.decodeOrder.push(this.current);
        stt.push(e.preRoll);
      } else if (e.type === 'speech') {
        stt.push(e.samples);
      } else if (e.type === 'speech-pause') {
        if (this.current) this.simultaneous?.pause(this.current.id);
        this.paused();
      } else if (e.type === 'speech-resume') {
        this.pausedUtteranceId = undefined;
        this.preemption?.discard();
      } else if (this.current) {
        this.current.endAudioMs = e.atMs;
        this.clock.speechEnded(this.current.id, e.atMs);
        this.current = undefined;
        this.pausedUtteranceId = undefined;
        stt.flush().catch((err: unknown) => this.fail(err));
      }
    }
  }

  /**
   * A short pause in the open utterance: reads the recognizer's hypothesis and speculates on it,
   * unless speech resumed or the utterance ended meanwhile, or the stream is behind its audio.
   */
  private paused(): void {
    const u = this.current;
    const stt = this.stt;
    if (!this.preemption || !u || !stt?.hypothesis || this.failed || this.backlogMs > MAX_BACKLOG_TO_SPECULATE_MS) return;
    this.pausedUtteranceId = u.id;
    stt.hypothesis().then((text) => {
      if (text && this.pausedUtteranceId === u.id && this.current === u && !this.closed) this.preemption?.speculate(u.id, text);
    }, () => undefined); // a stream that cannot answer now just does not speculate; its final still comes
  }

  private onTranscript(t: SttTranscript): void {
    const u = this.decodeOrder[0];
    if (!u) return;
    const startedAt = new Date((this.streamStartWallMs ?? Date.now()) + u.startAudioMs);
    if (t.type === 'interim') {
      if (!this.failed) this.simultaneous?.interim(u.id, t.text);
      if (this.options.interim && !this.failed) {
        u.interimSent = true;
        this.emit({ type: 'transcript', utteranceId: u.id, text: t.text, final: false, startedAt, durationMs: Math.round(t.audioMs) });
      }
      return;
    }
    if (t.endpoint === 'provider' && this.engines.stt.capabilities.endpointing === 'provider') this.endedByEngine(u);
    else this.decodeOrder.shift();
    // Simultaneous mode: the final keeps the words already spoken; only the rest is still to speak.
    const committed = this.simultaneous?.final(u.id, t.text);
    const text = committed?.transcript ?? t.text;
    if (!text && !u.interimSent) {
      this.clock.finish(u.id); // noise that held no words: nothing to send, its marks are dropped
      return;
    }
    this.clock.mark(u.id, 'finalTranscript');
    const durationMs = Math.round(u.endAudioMs - u.startAudioMs);
    if (this.options.final) {
      this.emit({ type: 'transcript', utteranceId: u.id, text, final: true, startedAt, durationMs });
    }
    const confidence = t.confidence ?? null;
    const translation = this.recognizerTranslates ? t.translation : undefined;
    const spoken = this.preemption?.take(u.id, t.text);
    const final = { utteranceId: u.id, text, startedAt, durationMs, confidence, translation, spoken, unspoken: committed?.remainder };
    if (this.options.mode === 'recognize') {
      this.emit({ type: 'utterance-end', utteranceId: u.id, latency: this.clock.finish(u.id), transcript: text, translation: '', startedAt, durationMs, confidence });
      return;
    }
    this.output = this.output.then(() => this.translateAndSpeak(final)).catch((err: unknown) => this.fail(err));
  }

  /**
   * Provider endpointing: the engine ended utterance `u` (the oldest awaiting its final) itself, so
   * several finals can come from one VAD segment. `u` ends now when its segment is still open; the
   * rest of the segment becomes a new utterance in its place, which the next final (the engine's or
   * the flush's) ends.
   */
  private endedByEngine(u: Utterance): void {
    const open = u === this.current;
    const atMs = open ? this.audioMs : u.endAudioMs;
    const rest: Utterance = { id: randomUUID(), startAudioMs: atMs, endAudioMs: atMs, interimSent: false };
    if (open) {
      u.endAudioMs = atMs;
      this.clock.speechEnded(u.id, atMs);
      this.current = rest;
    } else {
      this.clock.speechEnded(rest.id, atMs);
    }
    this.decodeOrder[0] = rest;
  }

  /** The dictionary for the next utterance: the fixed list, or a fresh read of the source. */
  private async currentDictionary(): Promise<readonly DictionaryEntry[]> {
    const d = this.options.dictionary;
    if (typeof d !== 'function') return d;
    try {
      this.lastDictionary = await d();
    } catch {
      // The source should not throw; if it does, the last dictionary read still applies.
    }
    return this.lastDictionary;
  }

  /** MT and TTS of a hypothesis at a pause, held until its final (nothing is emitted). */
  private async speculate(text: string): Promise<SpokenTranslation> {
    const translation = await this.translate(text);
    const pcm: Buffer[] = [];
    for await (const block of this.synthesize(translation)) pcm.push(block);
    return { translation, pcm };
  }

  private async translate(text: string): Promise<string> {
    const { sourceLanguage, targetLanguage } = this.options;
    return translateWithGlossary(this.engines.mt, text, sourceLanguage, targetLanguage, await this.currentDictionary(), this.options.engines?.mt);
  }

  private synthesize(translation: string, speed?: number): AsyncGenerator<Buffer> {
    const { targetLanguage, voice } = this.options;
    return synthesizePcm(this.engines.tts, translation, { language: targetLanguage, voice, sampleRateHz: this.egressRate, engines: this.options.engines?.tts, speed });
  }

  /**
   * MT (or the recognizer's own `translation` of the final) and TTS of one final, in utterance
   * order; a speculation of the same text (`spoken`) is sent instead when it succeeded.
   */
  private async translateAndSpeak(final: {
    utteranceId: string; text: string; startedAt: Date; durationMs: number; confidence: number | null; translation?: string | undefined;
    spoken?: Promise<SpokenTranslation | undefined> | undefined;
    /** Simultaneous mode: the part of `text` not spoken yet as committed segments. */
    unspoken?: string | undefined;
  }): Promise<void> {
    if (this.failed) return;
    const { utteranceId, text } = final;
    const spoken = await final.spoken;
    const translation = spoken?.translation ?? final.translation ?? await this.translate(text);
    this.clock.mark(utteranceId, 'translation');
    if (this.options.translate) {
      this.emit({ type: 'translation', utteranceId, text: translation, final: true, latencyMs: this.clock.elapsedSinceSpeechEnd(utteranceId), transcript: text });
    }
    const speech = final.unspoken === undefined ? translation : await this.translate(final.unspoken);
    for await (const pcm of spoken ? spoken.pcm : this.synthesize(speech)) {
      this.clock.mark(utteranceId, 'firstAudioByte');
      this.emit({ type: 'audio', utteranceId, pcm });
    }
    this.emit({
      type: 'utterance-end', utteranceId, latency: this.clock.finish(utteranceId), transcript: text, translation,
      startedAt: final.startedAt, durationMs: final.durationMs, confidence: final.confidence,
    });
  }

  /** Simultaneous mode's segments, spoken on this pipeline's output queue. */
  private openSimultaneous(): SimultaneousSpeech {
    return new SimultaneousSpeech({
      translate: (text) => this.translate(text),
      synthesize: (text, speed) => this.synthesize(text, speed),
      sampleRateHz: this.egressRate,
      emit: (event) => this.emit(event),
      enqueue: (work) => {
        this.output = this.output.then(() => (this.failed ? undefined : work())).catch((err: unknown) => this.fail(err));
      },
      sendTranslations: this.options.translate,
    }, this.options.segmentPolicy);
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.emit({ type: 'error', status: 500, description: 'Server failed to process the audio stream', cause: err });
  }
}
