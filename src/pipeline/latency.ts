/**
 * Per-utterance latency marks (docs/architecture.md "The pipeline"): speech end (VAD), endpoint detected, final transcript,
 * translation and first synthesized audio byte sent. All values are wall-clock ms.
 */

/** Latencies of one utterance in ms, measured from the wall time at which its last voiced audio arrived. */
export interface UtteranceLatency {
  /** Speech end → endpoint detected (the endpoint silence plus processing). */
  endpointMs: number;
  /** Speech end → final transcript emitted. */
  finalTranscriptMs: number;
  /** Speech end → translation emitted. */
  translationMs: number;
  /** Speech end → first synthesized audio byte emitted; null when nothing was spoken. */
  firstAudioByteMs: number | null;
}

type Stage = 'finalTranscript' | 'translation' | 'firstAudioByte';

interface Marks {
  speechEndWallMs: number;
  endpointWallMs: number;
  stages: Partial<Record<Stage, number>>;
}

const MAX_ARRIVALS = 2000;

/** Maps audio time to the wall time it arrived, and collects each utterance's marks. */
export class LatencyClock {
  /** [audio ms at the end of a pushed block, wall ms it arrived], in order. */
  private readonly arrivals: Array<[number, number]> = [];
  private audioMs = 0;
  private readonly marks = new Map<string, Marks>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records that `samples` samples at `sampleRateHz` arrived at `wallMs`. */
  arrived(samples: number, sampleRateHz: number, wallMs: number): void {
    this.audioMs += (samples * 1000) / sampleRateHz;
    this.arrivals.push([this.audioMs, wallMs]);
    if (this.arrivals.length > MAX_ARRIVALS) this.arrivals.splice(0, this.arrivals.length - MAX_ARRIVALS);
  }

  /** Wall time at which the audio at `audioMs` arrived (the block holding it). */
  wallTimeOf(audioMs: number): number {
    for (const [endMs, wallMs] of this.arrivals) if (endMs >= audioMs) return wallMs;
    return this.now();
  }

  /** Starts an utterance's marks: its speech ended at `audioMs`, and the endpoint is detected now. */
  speechEnded(utteranceId: string, audioMs: number): void {
    this.marks.set(utteranceId, { speechEndWallMs: this.wallTimeOf(audioMs), endpointWallMs: this.now(), stages: {} });
  }

  /** Marks a stage reached now (only the first mark of a stage counts). */
  mark(utteranceId: string, stage: Stage): void {
    const m = this.marks.get(utteranceId);
    if (m && m.stages[stage] === undefined) m.stages[stage] = this.now();
  }

  /** Speech end → now, in ms, for an utterance being processed (0 when unknown). */
  elapsedSinceSpeechEnd(utteranceId: string): number {
    const m = this.marks.get(utteranceId);
    return m ? Math.max(0, this.now() - m.speechEndWallMs) : 0;
  }

  /** Returns the utterance's latencies and forgets it. */
  finish(utteranceId: string): UtteranceLatency {
    const m = this.marks.get(utteranceId);
    this.marks.delete(utteranceId);
    const end = m?.speechEndWallMs ?? this.now();
    const since = (t: number | undefined): number => Math.max(0, (t ?? this.now()) - end);
    return {
      endpointMs: since(m?.endpointWallMs),
      finalTranscriptMs: since(m?.stages.finalTranscript),
      translationMs: since(m?.stages.translation),
      firstAudioByteMs: m?.stages.firstAudioByte === undefined ? null : since(m.stages.firstAudioByte),
    };
  }
}
