import type { VoiceName } from '../../common/voices.js';

import type { VoiceType } from '../../domain/interpreters.js';

export type { VoiceType } from '../../domain/interpreters.js';

/** The `voice_type` values of spec 001, in the order the docs list them. */
export const VOICE_TYPES: readonly VoiceType[] = ['clone', 'female', 'male'];

/**
 * Median fundamental frequency under which a speaker is given the male voice, in Hz. Adult male
 * speech centres around 85–155 Hz, adult female around 165–255 Hz.
 */
export const MALE_FEMALE_BOUNDARY_HZ = 160;

/** Analysis window of the pitch estimate, in ms (several periods of the lowest pitch searched). */
const WINDOW_MS = 40;
const MIN_PITCH_HZ = 60;
const MAX_PITCH_HZ = 400;
/** RMS (s16) under which a window is treated as silence. */
const VOICED_RMS = 300;
/** Normalized autocorrelation a window needs at its best lag to count as voiced. */
const MIN_CORRELATION = 0.5;
/** Rate the estimate works at: input is decimated to it first (cheap on the event loop). */
const ANALYSIS_RATE_HZ = 8000;

/**
 * Estimates a speaker's median fundamental frequency (pitch) from mono s16 audio by normalized
 * autocorrelation over 40 ms windows, at 8 kHz. About 1 s of speech costs ~2 ms of CPU.
 * @param samples - mono s16 samples at `sampleRateHz` (a multiple of 8000 Hz: 8, 16, 24 or 48 kHz).
 * @returns the median pitch of the voiced windows in Hz, or undefined when none was voiced.
 */
export function estimatePitchHz(samples: Int16Array, sampleRateHz: number): number | undefined {
  const x = decimate(samples, Math.max(1, Math.round(sampleRateHz / ANALYSIS_RATE_HZ)));
  const window = Math.round((ANALYSIS_RATE_HZ * WINDOW_MS) / 1000);
  const minLag = Math.floor(ANALYSIS_RATE_HZ / MAX_PITCH_HZ);
  const maxLag = Math.ceil(ANALYSIS_RATE_HZ / MIN_PITCH_HZ);
  const pitches: number[] = [];
  for (let start = 0; start + window + maxLag <= x.length; start += window) {
    const lag = bestLag(x, start, window, minLag, maxLag);
    if (lag !== undefined) pitches.push(ANALYSIS_RATE_HZ / lag);
  }
  if (pitches.length === 0) return undefined;
  pitches.sort((a, b) => a - b);
  return pitches[Math.floor(pitches.length / 2)];
}

/** Averages each `factor` samples into one (a crude low-pass, enough for pitch). */
function decimate(samples: Int16Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(samples.length / factor));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < factor; k++) sum += samples[i * factor + k] ?? 0;
    out[i] = sum / factor;
  }
  return out;
}

/** The lag of highest normalized autocorrelation in a voiced window, or undefined for silence or noise. */
function bestLag(x: Float32Array, start: number, window: number, minLag: number, maxLag: number): number | undefined {
  let energy = 0;
  for (let i = start; i < start + window; i++) energy += (x[i] ?? 0) ** 2;
  if (Math.sqrt(energy / window) < VOICED_RMS) return undefined;
  let best = 0;
  let bestAt: number | undefined;
  for (let lag = minLag; lag <= maxLag; lag++) {
    let dot = 0;
    let lagged = 0;
    for (let i = start; i < start + window; i++) {
      const y = x[i + lag] ?? 0;
      dot += (x[i] ?? 0) * y;
      lagged += y * y;
    }
    const r = dot / Math.sqrt(energy * lagged || 1);
    if (r > best) {
      best = r;
      bestAt = lag;
    }
  }
  return best >= MIN_CORRELATION ? bestAt : undefined;
}

/**
 * The installed voice for a `voice_type`: `female`/`male` as asked; `clone` the variant closest to
 * the speaker's estimated pitch (docs/rooms.md "What clone does": an approximation, not a clone).
 * @param pitchHz - the speaker's median pitch ({@link estimatePitchHz}); undefined falls back to `female`.
 */
export function chooseVoice(voiceType: VoiceType, pitchHz: number | undefined): VoiceName {
  if (voiceType !== 'clone') return voiceType;
  if (pitchHz === undefined) return 'female';
  return pitchHz < MALE_FEMALE_BOUNDARY_HZ ? 'male' : 'female';
}

/** For `clone`: voiced audio collected before the voice is chosen, in ms. */
const CLONE_VOICED_MS = 1000;
/** For `clone`: audio after which the voice is chosen whatever was voiced, in ms. */
const CLONE_MAX_WAIT_MS = 3000;

/** Audio heard before a voice was chosen, with when each frame arrived (epoch ms). */
export type CollectedAudio = Array<{ pcm: Buffer; arrivedAtMs: number }>;

/**
 * A speaker's first audio, collected until its voice can be chosen (docs/rooms.md "Voices"): at
 * once for `male`/`female`; for `clone` after {@link CLONE_VOICED_MS} of voiced audio, or
 * {@link CLONE_MAX_WAIT_MS} of any, from the pitch of what was heard.
 */
export class VoiceCollector {
  private readonly frames: CollectedAudio = [];
  private collectedMs = 0;
  private voicedMs = 0;

  /** @param sampleRateHz - rate of the s16le mono frames pushed, in Hz. */
  constructor(private readonly voiceType: VoiceType, private readonly sampleRateHz: number) {}

  /**
   * Keeps a frame `durationMs` long (`voiced` when it carries speech).
   * @returns the voice, its pitch (Hz, `clone` only) and the audio collected (the frame included) once chosen; else undefined.
   */
  push(pcm: Buffer, durationMs: number, voiced: boolean): { voice: VoiceName; pitchHz: number | undefined; audio: CollectedAudio } | undefined {
    this.frames.push({ pcm, arrivedAtMs: Date.now() });
    this.collectedMs += durationMs;
    if (voiced) this.voicedMs += durationMs;
    const clone = this.voiceType === 'clone';
    if (clone && this.voicedMs < CLONE_VOICED_MS && this.collectedMs < CLONE_MAX_WAIT_MS) return undefined;
    const pitchHz = clone ? estimatePitchHz(concatSamples(this.frames.map((c) => c.pcm)), this.sampleRateHz) : undefined;
    return { voice: chooseVoice(this.voiceType, pitchHz), pitchHz, audio: this.frames.splice(0) };
  }

  /** Forgets what was collected. */
  clear(): void {
    this.frames.length = 0;
  }
}

/** RMS of s16 samples (0 for none). */
export function frameRms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

function concatSamples(chunks: readonly Buffer[]): Int16Array {
  const all = Buffer.concat(chunks);
  const samples = new Int16Array(Math.floor(all.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = all.readInt16LE(i * 2);
  return samples;
}
