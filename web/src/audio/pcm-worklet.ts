/**
 * AudioWorklet processor: takes the microphone at the device's rate (`sampleRate`, e.g. 48 kHz),
 * downsamples it to `targetSampleRateHz` (16 kHz) and posts signed 16-bit mono PCM frames of
 * `frameSamples` samples (640 = 40 ms at 16 kHz) to the main thread as
 * `{ type: 'frame', pcm: ArrayBuffer, rms: number }`. Posting `{ type: 'stop' }` ends the processor.
 *
 * Loaded with `audioWorklet.addModule()` from a URL that Vite bundles (see microphone.ts).
 */
import { floatToInt16, StreamingResampler } from './resampler';

// The AudioWorkletGlobalScope, declared locally: TypeScript's DOM library does not describe it.
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}

/** Options passed as `processorOptions` when the node is created. */
interface PcmProcessorOptions {
  targetSampleRateHz: number;
  frameSamples: number;
}

class PcmCaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler: StreamingResampler;
  private readonly frameSamples: number;
  private frame: Int16Array;
  private filled = 0;
  private sumOfSquares = 0;
  private running = true;

  constructor(options: { processorOptions: PcmProcessorOptions }) {
    super(options);
    const { targetSampleRateHz, frameSamples } = options.processorOptions;
    this.resampler = new StreamingResampler(sampleRate, targetSampleRateHz);
    this.frameSamples = frameSamples;
    this.frame = new Int16Array(frameSamples);
    this.port.onmessage = (event: MessageEvent<{ type?: string }>) => {
      if (event.data.type === 'stop') this.running = false;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (channel && channel.length > 0) {
      const samples = this.resampler.process(channel);
      for (let i = 0; i < samples.length; i++) this.push(samples[i] ?? 0);
    }
    return this.running;
  }

  private push(sample: number): void {
    this.frame[this.filled++] = floatToInt16(sample);
    this.sumOfSquares += sample * sample;
    if (this.filled < this.frameSamples) return;
    const rms = Math.sqrt(this.sumOfSquares / this.frameSamples);
    const pcm = this.frame.buffer as ArrayBuffer;
    // Transferred, not copied: the old view is detached afterwards, so a new frame is allocated.
    this.port.postMessage({ type: 'frame', pcm, rms }, [pcm]);
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.sumOfSquares = 0;
  }
}

registerProcessor('tolk-pcm-capture', PcmCaptureProcessor);
