import type { PipelineEvent } from './pipeline-types.js';
import { DEFAULT_SEGMENT_POLICY, SegmentCommitter, type FinalAgainstCommitted, type SegmentPolicy } from './simultaneous.js';

/** What {@link SimultaneousSpeech} needs of its pipeline. */
export interface SimultaneousIo {
  /** MT of one segment (the glossary applied), off the event loop. @throws {Error} when MT fails. */
  translate(text: string): Promise<string>;
  /**
   * TTS of one translated segment as s16le blocks at `sampleRateHz`, `speed` × the engine's rate.
   * @throws {Error} when TTS fails.
   */
  synthesize(text: string, speed: number): AsyncGenerator<Buffer>;
  /** Rate of the synthesized speech, in Hz. */
  sampleRateHz: number;
  /** Sends an event to the client. */
  emit(event: PipelineEvent): void;
  /** Runs `work` on the pipeline's output queue, after everything queued before it. */
  enqueue(work: () => Promise<void>): void;
  /** Whether the client wants translations (`transcript.translate`): interim ones are sent only then. */
  sendTranslations: boolean;
}

interface UtteranceSegments {
  committer: SegmentCommitter;
  /** Translations of the committed segments, in order. */
  translations: string[];
}

/**
 * The pipeline's side of simultaneous mode (docs/stream-protocol.md "Simultaneous mode"): commits
 * segments of each open utterance ({@link SegmentCommitter}), translates and speaks each one on the
 * output queue as soon as it is committed, and sends the translation of what was committed so far
 * as a `translation` event with `final: false` (its `transcript` is the committed source text).
 */
export class SimultaneousSpeech {
  private readonly utterances = new Map<string, UtteranceSegments>();
  /** Wall time at which a client playing the speech sent so far, as it arrived, would finish it, in ms. */
  private playEndWallMs = 0;

  constructor(private readonly io: SimultaneousIo, private readonly policy: SegmentPolicy = DEFAULT_SEGMENT_POLICY) {}

  /** An interim hypothesis of utterance `utteranceId` (all its words so far). */
  interim(utteranceId: string, text: string): void {
    const state = this.state(utteranceId);
    const segment = state.committer.hypothesis(text);
    if (segment) this.speak(utteranceId, segment, state);
  }

  /** A short pause in utterance `utteranceId`: its stable words are committed. */
  pause(utteranceId: string): void {
    const state = this.utterances.get(utteranceId);
    const segment = state?.committer.pause();
    if (state && segment) this.speak(utteranceId, segment, state);
  }

  /**
   * The final of utterance `utteranceId` read against its committed segments (then forgotten):
   * undefined when nothing was committed (the final is translated and spoken as in consecutive mode).
   */
  final(utteranceId: string, text: string): FinalAgainstCommitted | undefined {
    const state = this.utterances.get(utteranceId);
    this.utterances.delete(utteranceId);
    if (!state || state.committer.committedText === '') return undefined;
    return state.committer.final(text);
  }

  private state(utteranceId: string): UtteranceSegments {
    let state = this.utterances.get(utteranceId);
    if (!state) {
      state = { committer: new SegmentCommitter(this.policy), translations: [] };
      this.utterances.set(utteranceId, state);
    }
    return state;
  }

  private speak(utteranceId: string, segment: string, state: UtteranceSegments): void {
    const committed = state.committer.committedText;
    this.io.enqueue(async () => {
      const translation = await this.io.translate(segment);
      state.translations.push(translation);
      if (this.io.sendTranslations) {
        const text = state.translations.filter((t) => t !== '').join(' ');
        this.io.emit({ type: 'translation', utteranceId, text, final: false, latencyMs: 0, transcript: committed });
      }
      for await (const pcm of this.io.synthesize(translation, segmentSpeed(this.playEndWallMs - Date.now()))) {
        this.playEndWallMs = Math.max(this.playEndWallMs, Date.now()) + (pcm.length / 2 / this.io.sampleRateHz) * 1000;
        this.io.emit({ type: 'audio', utteranceId, pcm });
      }
    });
  }
}

/** Speech still to play before which a segment is spoken faster, in ms. */
const SPEED_UP_AFTER_MS = 250;
/** Fastest rate a segment is spoken at, × the engine's default. */
const MAX_SPEED = 1.6;

/**
 * The rate of a segment's speech given `queuedMs` of speech sent before it that a listener has
 * not heard yet: 1 up to {@link SPEED_UP_AFTER_MS}, then faster by 40 % per further second, at
 * most {@link MAX_SPEED} — as an interpreter who falls behind speaks faster to catch up.
 */
export function segmentSpeed(queuedMs: number): number {
  if (queuedMs <= SPEED_UP_AFTER_MS) return 1;
  return Math.min(MAX_SPEED, 1 + (queuedMs - SPEED_UP_AFTER_MS) / 2500);
}
