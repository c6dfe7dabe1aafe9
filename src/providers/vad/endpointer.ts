import { concatSamples } from '../../audio/pcm.js';
import type { EndpointReason, EndpointingOptions, VadEvent } from './types.js';

/** Trailing silence an utterance ends with (it helps the recognizer close the last word), in ms. */
const CLOSING_SILENCE_MS = 100;

/** {@link EndpointingOptions} with every default filled in. */
export type EndpointingSettings = Required<EndpointingOptions>;

/** Fills in the defaults of {@link EndpointingOptions} (undefined fields take the default). */
export function endpointingSettings(options: EndpointingOptions): EndpointingSettings {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return {
    speechStartMs: 60,
    startWindowMs: 100,
    endpointSilenceMs: 300,
    maxUtteranceMs: 10_000,
    longUtterancePauseMs: 120,
    hardMaxUtteranceMs: 20_000,
    preRollMs: 250,
    pauseMs: 0,
    ...(defined as EndpointingOptions),
  };
}

/**
 * Cuts a stream into fixed frames of `frameSamples`, keeping the remainder for the next block, so a
 * VAD sees the same frames whatever the block sizes (odd lengths, empty blocks).
 */
export class FrameSplitter {
  private pending = new Int16Array(0);

  /** @throws {RangeError} when `frameSamples` is not a positive integer. */
  constructor(readonly frameSamples: number) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) throw new RangeError(`frame length must be a positive integer (got ${frameSamples})`);
  }

  /** The complete frames of the stream so far, each a copy. */
  frames(samples: Int16Array): Int16Array[] {
    const all = new Int16Array(this.pending.length + samples.length);
    all.set(this.pending, 0);
    all.set(samples, this.pending.length);
    const out: Int16Array[] = [];
    let offset = 0;
    for (; all.length - offset >= this.frameSamples; offset += this.frameSamples) out.push(all.slice(offset, offset + this.frameSamples));
    this.pending = all.slice(offset);
    return out;
  }
}

/**
 * Conversational endpointing over frames already classified voiced or not (docs/architecture.md "The pipeline"): an utterance
 * opens after `speechStartMs` of voiced frames within `startWindowMs`, carries `preRollMs` of audio
 * before it, and ends after `endpointSilenceMs` of silence, after `longUtterancePauseMs` once it is
 * longer than `maxUtteranceMs` (`sentence-pause`), or at `hardMaxUtteranceMs` (`max-length`).
 * With `pauseMs` set, a silence that reaches it inside an utterance is reported (`speech-pause`,
 * after the speech before it), and so is speech resuming after it (`speech-resume`).
 */
export class Endpointer {
  private readonly frameMs: number;
  private processedSamples = 0;
  private inSpeech = false;
  private utteranceStartMs = 0;
  private lastVoicedEndMs = 0;
  private readonly recentVoiced: boolean[] = [];
  private readonly preRoll: Int16Array[] = [];
  /** Frames of the current utterance's trailing silence, not yet released as speech. */
  private trailing: Int16Array[] = [];
  private events: VadEvent[] = [];
  private speechOut: Int16Array[] = [];
  /** A `speech-pause` was reported for the current silence. */
  private paused = false;
  /** Frames of the current trailing silence already released as speech (at a `speech-pause`). */
  private trailingReleased = 0;

  /** @param frameSamples - length of every frame given to {@link step}. */
  constructor(private readonly o: EndpointingSettings, private readonly frameSamples: number) {
    this.frameMs = (frameSamples * 1000) / o.sampleRateHz;
  }

  /** True while an utterance is open. */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Takes the next frame of the stream with its voiced decision. */
  step(frame: Int16Array, voiced: boolean): void {
    const frameStartMs = (this.processedSamples * 1000) / this.o.sampleRateHz;
    this.processedSamples += this.frameSamples;
    const frameEndMs = (this.processedSamples * 1000) / this.o.sampleRateHz;
    if (!this.inSpeech) {
      this.awaitStart(frame, voiced, frameEndMs);
      return;
    }
    if (voiced) {
      if (this.paused) this.events.push({ type: 'speech-resume', atMs: frameStartMs });
      this.paused = false;
      this.trailingReleased = 0;
      this.speechOut.push(...this.trailing, frame);
      this.trailing = [];
      this.lastVoicedEndMs = frameEndMs;
    } else {
      this.trailing.push(frame);
    }
    const reason = this.endpoint(frameStartMs, frameEndMs);
    if (reason) this.end(reason, frameEndMs);
    else if (!voiced) this.notePause(frameEndMs);
  }

  /**
   * Reports a `speech-pause` once the current silence reaches `pauseMs` (when set). The silence the
   * utterance keeps whatever follows (the first {@link CLOSING_SILENCE_MS}: sent at the endpoint, and
   * before more speech if it resumes) is released first, so what the recognizer has at the pause is
   * what it would end the utterance with.
   */
  private notePause(frameEndMs: number): void {
    if (this.o.pauseMs <= 0 || this.paused || frameEndMs - this.lastVoicedEndMs < this.o.pauseMs) return;
    this.paused = true;
    const kept = Math.min(this.trailing.length, this.closingFrames());
    this.speechOut.push(...this.trailing.slice(0, kept));
    this.trailing = this.trailing.slice(kept);
    this.trailingReleased = kept;
    this.releaseSpeech();
    this.events.push({ type: 'speech-pause', atMs: this.lastVoicedEndMs });
  }

  /** Frames of trailing silence an ended utterance keeps. */
  private closingFrames(): number {
    return Math.ceil(CLOSING_SILENCE_MS / this.frameMs);
  }

  /** The events completed since the last call, in order. */
  take(): VadEvent[] {
    this.releaseSpeech();
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Ends an open utterance at the end of the stream; returns every pending event. */
  flush(): VadEvent[] {
    if (this.inSpeech) {
      this.inSpeech = false;
      this.paused = false;
      this.trailingReleased = 0;
      this.speechOut.push(...this.trailing);
      this.trailing = [];
      this.releaseSpeech();
      this.events.push({ type: 'speech-end', atMs: this.lastVoicedEndMs, reason: 'flush' });
    }
    return this.take();
  }

  private awaitStart(frame: Int16Array, voiced: boolean, frameEndMs: number): void {
    const windowFrames = Math.max(1, Math.round(this.o.startWindowMs / this.frameMs));
    this.recentVoiced.push(voiced);
    if (this.recentVoiced.length > windowFrames) this.recentVoiced.shift();
    const preRollFrames = Math.max(1, Math.round(this.o.preRollMs / this.frameMs));
    this.preRoll.push(frame);
    if (this.preRoll.length > preRollFrames) this.preRoll.shift();
    const voicedMs = this.recentVoiced.filter(Boolean).length * this.frameMs;
    if (!voiced || voicedMs < this.o.speechStartMs) return;
    this.inSpeech = true;
    const preRoll = concatSamples(this.preRoll);
    this.preRoll.length = 0;
    this.recentVoiced.length = 0;
    this.utteranceStartMs = Math.max(0, frameEndMs - (preRoll.length * 1000) / this.o.sampleRateHz);
    this.lastVoicedEndMs = frameEndMs;
    this.trailing = [];
    this.events.push({ type: 'speech-start', atMs: this.utteranceStartMs, preRoll });
  }

  /**
   * Endpointing of the open utterance after a frame spanning `frameStartMs`–`frameEndMs` (stream
   * time, in ms): why it ends there, or undefined while it goes on.
   */
  private endpoint(frameStartMs: number, frameEndMs: number): Exclude<EndpointReason, 'flush'> | undefined {
    const silenceMs = frameEndMs - this.lastVoicedEndMs;
    const lengthMs = this.lastVoicedEndMs - this.utteranceStartMs;
    if (silenceMs >= this.o.endpointSilenceMs) return 'pause';
    if (lengthMs >= this.o.maxUtteranceMs && silenceMs >= this.o.longUtterancePauseMs) return 'sentence-pause';
    if (frameStartMs - this.utteranceStartMs >= this.o.hardMaxUtteranceMs) return 'max-length';
    return undefined;
  }

  private end(reason: Exclude<EndpointReason, 'flush'>, frameEndMs: number): void {
    // A little of the trailing silence helps the recognizer close the last word.
    this.speechOut.push(...this.trailing.slice(0, Math.max(0, this.closingFrames() - this.trailingReleased)));
    this.releaseSpeech();
    this.events.push({ type: 'speech-end', atMs: reason === 'max-length' ? frameEndMs : this.lastVoicedEndMs, reason });
    this.inSpeech = false;
    this.paused = false;
    this.trailingReleased = 0;
    this.trailing = [];
    this.recentVoiced.length = 0;
    this.preRoll.length = 0;
  }

  private releaseSpeech(): void {
    if (this.speechOut.length === 0) return;
    this.events.push({ type: 'speech', samples: concatSamples(this.speechOut) });
    this.speechOut = [];
  }
}
