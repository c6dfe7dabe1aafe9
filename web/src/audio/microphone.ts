/**
 * Microphone capture: getUserMedia → MediaStreamAudioSourceNode → the PCM AudioWorklet
 * (pcm-worklet.ts) → 40 ms frames of signed 16-bit mono PCM at 16 kHz, delivered to a callback.
 */
import workletUrl from './pcm-worklet.ts?worker&url';
import { audioContext } from './context';

/** Sample rate of the PCM sent to Tolk, in Hz (the protocol's `sample_rate`). */
export const CAPTURE_SAMPLE_RATE_HZ = 16000;
/** Samples per frame sent to the server: 640 samples = 40 ms at 16 kHz = 1280 bytes. */
export const CAPTURE_FRAME_SAMPLES = 640;

/** Why the microphone could not start; each has its own explanation in the UI. */
export type MicErrorKind = 'denied' | 'not-found' | 'busy' | 'insecure' | 'unsupported' | 'ended' | 'unknown';

/** A microphone failure with the reason the UI explains. */
export class MicError extends Error {
  constructor(
    readonly kind: MicErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'MicError';
  }
}

/** One captured frame: PCM s16le mono at 16 kHz, and its RMS level in [0, 1]. */
export interface MicFrame {
  pcm: ArrayBuffer;
  rms: number;
}

const loadedContexts = new WeakSet<BaseAudioContext>();

/**
 * Checks what would make getUserMedia impossible before asking: pages served over plain http from
 * another machine (a phone opening a LAN address) are not a secure context and have no microphone.
 * @throws {MicError} `insecure` or `unsupported`.
 */
export function assertMicrophoneAvailable(): void {
  if (!window.isSecureContext) throw new MicError('insecure', 'The microphone needs a secure (https://) page.');
  if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') {
    throw new MicError('unsupported', 'This browser cannot record audio.');
  }
}

function classify(error: unknown): MicError {
  if (error instanceof MicError) return error;
  const name = error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new MicError('denied', 'Microphone access was denied.');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new MicError('not-found', 'No microphone was found.');
    case 'NotReadableError':
    case 'AbortError':
      return new MicError('busy', 'The microphone is in use by another application.');
    default:
      return new MicError('unknown', error instanceof Error ? error.message : 'The microphone could not start.');
  }
}

/** A running microphone capture; `stop()` releases the device. */
export class Microphone {
  private stream: MediaStream | undefined;
  private source: MediaStreamAudioSourceNode | undefined;
  private node: AudioWorkletNode | undefined;
  private sink: GainNode | undefined;

  /**
   * Asks for the microphone and starts delivering frames to `onFrame`.
   * @param onEnded - called when the device goes away (unplugged, permission revoked).
   * @throws {MicError} when the microphone is unavailable or access is refused.
   */
  async start(onFrame: (frame: MicFrame) => void, onEnded: (error: MicError) => void): Promise<void> {
    try {
      assertMicrophoneAvailable();
      const context = await audioContext();
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      if (!loadedContexts.has(context)) {
        await context.audioWorklet.addModule(workletUrl);
        loadedContexts.add(context);
      }
      this.source = context.createMediaStreamSource(this.stream);
      this.node = new AudioWorkletNode(context, 'tolk-pcm-capture', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        channelCount: 1,
        channelCountMode: 'explicit',
        processorOptions: { targetSampleRateHz: CAPTURE_SAMPLE_RATE_HZ, frameSamples: CAPTURE_FRAME_SAMPLES },
      });
      this.node.port.onmessage = (event: MessageEvent<{ type: string; pcm: ArrayBuffer; rms: number }>) => {
        if (event.data.type === 'frame') onFrame({ pcm: event.data.pcm, rms: event.data.rms });
      };
      // A muted path to the destination keeps the graph pulling audio through the worklet.
      this.sink = context.createGain();
      this.sink.gain.value = 0;
      this.source.connect(this.node).connect(this.sink).connect(context.destination);
      for (const track of this.stream.getAudioTracks()) {
        track.addEventListener('ended', () => {
          this.stop();
          onEnded(new MicError('ended', 'The microphone was disconnected.'));
        });
      }
    } catch (error) {
      this.stop();
      throw classify(error);
    }
  }

  /**
   * Whether the browser cancels the echo of what the page plays (the track's applied
   * `echoCancellation` setting): then the microphone stays open while translated speech plays;
   * without it the pages send silence meanwhile and ask the speaker to wait.
   */
  get cancelsEcho(): boolean {
    const track = this.stream?.getAudioTracks()[0];
    return track?.getSettings().echoCancellation === true;
  }

  /** Stops capture and releases the device (the browser's recording indicator goes off). */
  stop(): void {
    this.node?.port.postMessage({ type: 'stop' });
    this.source?.disconnect();
    this.node?.disconnect();
    this.sink?.disconnect();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
    this.source = undefined;
    this.node = undefined;
    this.sink = undefined;
  }
}
