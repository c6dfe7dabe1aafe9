import { EnergyVad } from './energy.js';
import { NoiseSuppressor } from './noise-suppression.js';
import { SileroVad, sharedSileroModel } from './silero.js';
import type { EndpointingOptions, StreamVad, VadEvent, VadName } from './types.js';

/** What a stream's speech detection runs: which VAD, and whether noise is suppressed first. */
export interface SpeechDetectorOptions extends EndpointingOptions {
  /** The VAD (docs/vad.md). Default `energy`. */
  vad?: VadName | undefined;
  /**
   * Suppress background noise and voices with RNNoise before the VAD (and so before STT, which
   * receives the VAD's audio): spec 002 `features.background_voice_cancellation`. Default false.
   */
  noiseSuppression?: boolean | undefined;
}

/**
 * A stream's front end before recognition (docs/architecture.md "The pipeline" ingest → VAD): optional noise suppression,
 * then the chosen VAD with the shared endpointing. `push` never blocks on a model: work runs in
 * order on a promise chain and events reach `onEvents` in stream order. With the energy VAD and no
 * suppression, events are delivered synchronously inside `push`, as before either existed.
 */
export class SpeechDetector {
  private chain: Promise<void> = Promise.resolve();
  private queuedSamples = 0;
  private closed = false;

  private constructor(
    private readonly vad: StreamVad,
    private readonly suppressor: NoiseSuppressor | undefined,
    private readonly sampleRateHz: number,
    private readonly onEvents: (events: VadEvent[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Opens the VAD (loading the Silero model once per process) and the suppressor.
   * @param onEvents - receives each batch of events, in stream order; must not throw.
   * @param onError - called once when the model or the suppressor fails; later audio is dropped.
   * @throws {Error} when the Silero model or RNNoise cannot load; {RangeError} for a rate the VAD does not take.
   */
  static async open(options: SpeechDetectorOptions, onEvents: (events: VadEvent[]) => void, onError: (err: unknown) => void): Promise<SpeechDetector> {
    const vad = options.vad === 'silero' ? new SileroVad(await sharedSileroModel(), options) : new EnergyVad(options);
    const suppressor = options.noiseSuppression ? await NoiseSuppressor.open(options.sampleRateHz) : undefined;
    return new SpeechDetector(vad, suppressor, options.sampleRateHz, onEvents, onError);
  }

  /** Audio pushed but not yet through the VAD, in ms (part of the stream's backlog). */
  get pendingMs(): number {
    return (this.queuedSamples * 1000) / this.sampleRateHz;
  }

  /** Feeds audio at the options' rate (any length). Ignored after `close` or a failure. */
  push(samples: Int16Array): void {
    if (this.closed) return;
    if (this.vad instanceof EnergyVad && !this.suppressor && this.queuedSamples === 0) {
      this.onEvents(this.vad.push(samples));
      return;
    }
    this.queuedSamples += samples.length;
    this.enqueue(async () => {
      const clean = this.suppressor ? await this.suppressor.process(samples) : samples;
      const events = await this.vad.push(clean);
      this.queuedSamples -= samples.length;
      if (!this.closed) this.onEvents(events);
    });
  }

  /** Waits for the audio pushed so far, then ends an open utterance (reason `flush`). */
  async finish(): Promise<void> {
    this.enqueue(async () => {
      const events = await this.vad.flush();
      if (!this.closed) this.onEvents(events);
    });
    await this.chain;
  }

  /** Releases the VAD and the suppressor; pending work is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.vad.close?.();
    this.suppressor?.close();
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await work();
      } catch (err) {
        this.close();
        this.onError(err);
      }
    });
  }
}
