import { rmsDbfs } from '../../audio/pcm.js';
import { Endpointer, FrameSplitter, endpointingSettings } from './endpointer.js';
import type { EndpointingOptions, StreamVad, VadEvent } from './types.js';

export type { VadEvent } from './types.js';

/** Tuning of the energy VAD: the shared endpointing plus the level rule. Durations in ms, levels in dBFS / dB. */
export interface EnergyVadOptions extends EndpointingOptions {
  /** Analysis frame length. Default 10. */
  frameMs?: number;
  /** A frame is voiced when louder than the noise floor by this margin. Default 9. */
  marginDb?: number;
  /** Frames quieter than this are never voiced. Default −55. */
  absoluteFloorDbfs?: number;
}

/**
 * Energy-based voice activity detector with an adaptive noise floor and conversational endpointing
 * (docs/architecture.md "The pipeline" "vad/endpointing", {@link Endpointer}): short pauses end an utterance; a long monologue
 * is cut at the first shorter pause after `maxUtteranceMs`, and never grows past `hardMaxUtteranceMs`.
 * Stream times (`atMs`) are measured in audio time from the first sample pushed. Synchronous and
 * cheap (one RMS per 10 ms frame).
 */
export class EnergyVad implements StreamVad {
  private readonly frames: FrameSplitter;
  private readonly endpointer: Endpointer;
  private readonly marginDb: number;
  private readonly absoluteFloorDbfs: number;
  private noiseFloorDb = -60;

  constructor(options: EnergyVadOptions) {
    const frameSamples = Math.round((options.sampleRateHz * (options.frameMs ?? 10)) / 1000);
    this.frames = new FrameSplitter(frameSamples);
    this.endpointer = new Endpointer(endpointingSettings(options), frameSamples);
    this.marginDb = options.marginDb ?? 9;
    this.absoluteFloorDbfs = options.absoluteFloorDbfs ?? -55;
  }

  /** True while an utterance is open. */
  get speaking(): boolean {
    return this.endpointer.speaking;
  }

  /** Feeds audio; returns the events it completes, in order. */
  push(samples: Int16Array): VadEvent[] {
    for (const frame of this.frames.frames(samples)) this.endpointer.step(frame, this.classify(frame));
    return this.endpointer.take();
  }

  /** Ends an open utterance at the end of the stream. */
  flush(): VadEvent[] {
    return this.endpointer.flush();
  }

  private classify(frame: Int16Array): boolean {
    const db = rmsDbfs(frame);
    const voiced = db > this.absoluteFloorDbfs && db > this.noiseFloorDb + this.marginDb;
    // The floor follows quiet frames quickly and loud ones very slowly, so speech does not raise it.
    if (db < this.noiseFloorDb) this.noiseFloorDb = 0.8 * this.noiseFloorDb + 0.2 * db;
    else this.noiseFloorDb = 0.995 * this.noiseFloorDb + 0.005 * db;
    return voiced;
  }
}
