import { concatSamples, rmsDbfs } from '../../audio/pcm.js';

/** Tuning of the energy VAD and endpointer. All durations in ms, levels in dBFS / dB. */
export interface EnergyVadOptions {
  /** Sample rate of the audio given to `push`. */
  sampleRateHz: number;
  /** Analysis frame length. */
  frameMs?: number;
  /** Voiced time within `startWindowMs` that starts an utterance. */
  speechStartMs?: number;
  /** Window in which `speechStartMs` of voiced frames must fall. */
  startWindowMs?: number;
  /** Trailing silence that ends an utterance (the endpoint). */
  endpointSilenceMs?: number;
  /** Past this utterance length, a pause of `longUtterancePauseMs` already ends it (sentence boundary of a monologue). */
  maxUtteranceMs?: number;
  /** Pause that ends an utterance longer than `maxUtteranceMs`. */
  longUtterancePauseMs?: number;
  /** Hard limit of an utterance: it is cut here even without a pause. */
  hardMaxUtteranceMs?: number;
  /** Audio kept before the detected start, so word onsets are not clipped. */
  preRollMs?: number;
  /** A frame is voiced when louder than the noise floor by this margin. */
  marginDb?: number;
  /** Frames quieter than this are never voiced. */
  absoluteFloorDbfs?: number;
}

/** What the VAD reports for a block of audio, in stream order. */
export type VadEvent =
  /** Speech began; `preRoll` holds the audio just before the start (already part of the utterance). */
  | { type: 'speech-start'; atMs: number; preRoll: Int16Array }
  /** Audio that belongs to the current utterance. */
  | { type: 'speech'; samples: Int16Array }
  /** The utterance ended at `atMs` (end of the last voiced frame); `reason` says why. */
  | { type: 'speech-end'; atMs: number; reason: 'pause' | 'sentence-pause' | 'max-length' | 'flush' };

/**
 * Energy-based voice activity detector with an adaptive noise floor and conversational endpointing
 * (DESIGN §3 "vad/endpointing"): short pauses end an utterance; a long monologue is cut at the
 * first shorter pause after `maxUtteranceMs`, and never grows past `hardMaxUtteranceMs`.
 * Stream times (`atMs`) are measured in audio time from the first sample pushed.
 */
export class EnergyVad {
  private readonly frameSamples: number;
  private readonly o: Required<EnergyVadOptions>;
  private pending = new Int16Array(0);
  private processedSamples = 0;
  private noiseFloorDb = -60;
  private inSpeech = false;
  private utteranceStartMs = 0;
  private lastVoicedEndMs = 0;
  private readonly recentVoiced: boolean[] = [];
  private readonly preRoll: Int16Array[] = [];
  /** Frames of the current utterance's trailing silence, not yet released as speech. */
  private trailing: Int16Array[] = [];

  constructor(options: EnergyVadOptions) {
    this.o = {
      frameMs: 10,
      speechStartMs: 60,
      startWindowMs: 100,
      endpointSilenceMs: 300,
      maxUtteranceMs: 10_000,
      longUtterancePauseMs: 120,
      hardMaxUtteranceMs: 20_000,
      preRollMs: 250,
      marginDb: 9,
      absoluteFloorDbfs: -55,
      ...options,
    };
    this.frameSamples = Math.round((this.o.sampleRateHz * this.o.frameMs) / 1000);
  }

  /** True while an utterance is open. */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Feeds audio; returns the events it completes, in order. */
  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    const all = new Int16Array(this.pending.length + samples.length);
    all.set(this.pending, 0);
    all.set(samples, this.pending.length);
    let offset = 0;
    const speechOut: Int16Array[] = [];
    const flushSpeech = (): void => {
      if (speechOut.length > 0) {
        events.push({ type: 'speech', samples: concatSamples(speechOut) });
        speechOut.length = 0;
      }
    };
    while (all.length - offset >= this.frameSamples) {
      const frame = all.subarray(offset, offset + this.frameSamples);
      offset += this.frameSamples;
      const frameStartMs = (this.processedSamples * 1000) / this.o.sampleRateHz;
      this.processedSamples += this.frameSamples;
      const frameEndMs = (this.processedSamples * 1000) / this.o.sampleRateHz;
      const voiced = this.classify(frame);
      if (!this.inSpeech) {
        this.remember(frame.slice(), voiced);
        const voicedMs = this.recentVoiced.filter(Boolean).length * this.o.frameMs;
        if (voiced && voicedMs >= this.o.speechStartMs) {
          this.inSpeech = true;
          const preRoll = this.takePreRoll();
          this.utteranceStartMs = Math.max(0, frameEndMs - (preRoll.length * 1000) / this.o.sampleRateHz);
          this.lastVoicedEndMs = frameEndMs;
          this.trailing = [];
          events.push({ type: 'speech-start', atMs: this.utteranceStartMs, preRoll });
        }
        continue;
      }
      if (voiced) {
        for (const t of this.trailing) speechOut.push(t);
        this.trailing = [];
        speechOut.push(frame.slice());
        this.lastVoicedEndMs = frameEndMs;
      } else {
        this.trailing.push(frame.slice());
      }
      const reason = this.endpoint(frameStartMs, frameEndMs);
      if (reason) {
        // A little of the trailing silence helps the recognizer close the last word.
        const tail = this.trailing.slice(0, Math.ceil(100 / this.o.frameMs));
        for (const t of tail) speechOut.push(t);
        flushSpeech();
        events.push({ type: 'speech-end', atMs: reason === 'max-length' ? frameEndMs : this.lastVoicedEndMs, reason });
        this.inSpeech = false;
        this.trailing = [];
        this.recentVoiced.length = 0;
        this.preRoll.length = 0;
      }
    }
    flushSpeech();
    this.pending = all.slice(offset);
    return events;
  }

  /**
   * Endpointing of the open utterance after a frame spanning `frameStartMs`–`frameEndMs` (stream
   * time, in ms): why it ends there, or undefined while it goes on.
   */
  private endpoint(frameStartMs: number, frameEndMs: number): 'pause' | 'sentence-pause' | 'max-length' | undefined {
    const silenceMs = frameEndMs - this.lastVoicedEndMs;
    const lengthMs = this.lastVoicedEndMs - this.utteranceStartMs;
    if (silenceMs >= this.o.endpointSilenceMs) return 'pause';
    if (lengthMs >= this.o.maxUtteranceMs && silenceMs >= this.o.longUtterancePauseMs) return 'sentence-pause';
    if (frameStartMs - this.utteranceStartMs >= this.o.hardMaxUtteranceMs) return 'max-length';
    return undefined;
  }

  /** Ends an open utterance at the end of the stream. */
  flush(): VadEvent[] {
    if (!this.inSpeech) return [];
    this.inSpeech = false;
    const events: VadEvent[] = [];
    if (this.trailing.length > 0) events.push({ type: 'speech', samples: concatSamples(this.trailing) });
    this.trailing = [];
    events.push({ type: 'speech-end', atMs: this.lastVoicedEndMs, reason: 'flush' });
    return events;
  }

  private classify(frame: Int16Array): boolean {
    const db = rmsDbfs(frame);
    const voiced = db > this.o.absoluteFloorDbfs && db > this.noiseFloorDb + this.o.marginDb;
    // The floor follows quiet frames quickly and loud ones very slowly, so speech does not raise it.
    if (db < this.noiseFloorDb) this.noiseFloorDb = 0.8 * this.noiseFloorDb + 0.2 * db;
    else this.noiseFloorDb = 0.995 * this.noiseFloorDb + 0.005 * db;
    return voiced;
  }

  private remember(frame: Int16Array, voiced: boolean): void {
    const windowFrames = Math.max(1, Math.round(this.o.startWindowMs / this.o.frameMs));
    this.recentVoiced.push(voiced);
    if (this.recentVoiced.length > windowFrames) this.recentVoiced.shift();
    const preRollFrames = Math.max(1, Math.round(this.o.preRollMs / this.o.frameMs));
    this.preRoll.push(frame);
    if (this.preRoll.length > preRollFrames) this.preRoll.shift();
  }

  private takePreRoll(): Int16Array {
    const out = concatSamples(this.preRoll);
    this.preRoll.length = 0;
    this.recentVoiced.length = 0;
    return out;
  }
}
