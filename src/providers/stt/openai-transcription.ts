/**
 * Reading an OpenAI `verbose_json` transcription (OpenAI API reference "The transcription object
 * (Verbose JSON)": `text`, `language`, `duration`, `segments[]` with `start`, `end`, `avg_logprob`).
 */
import { whisperLanguageCode } from './whisper-languages.js';

/** The parts of a transcription Tolk uses. */
export interface ParsedTranscription {
  text: string;
  /** Primary subtag of the language the server heard, when it says. */
  language?: string;
  /** 0..1, from the segments' `avg_logprob`; undefined without segments. */
  confidence?: number;
}

interface Segment {
  start?: unknown;
  end?: unknown;
  avg_logprob?: unknown;
}

/**
 * The utterance's confidence from its segments: `exp` of the duration-weighted mean `avg_logprob`
 * (a plain mean when no segment has a positive duration), clamped to 0..1. Undefined when no
 * segment carries a finite `avg_logprob`.
 */
export function segmentsConfidence(segments: unknown): number | undefined {
  if (!Array.isArray(segments)) return undefined;
  let weighted = 0;
  let totalS = 0;
  let plain = 0;
  let count = 0;
  for (const s of segments as Segment[]) {
    if (!s || typeof s !== 'object' || typeof s.avg_logprob !== 'number' || !Number.isFinite(s.avg_logprob)) continue;
    const durationS = typeof s.start === 'number' && typeof s.end === 'number' ? Math.max(0, s.end - s.start) : 0;
    weighted += s.avg_logprob * durationS;
    totalS += durationS;
    plain += s.avg_logprob;
    count++;
  }
  if (count === 0) return undefined;
  const mean = totalS > 0 ? weighted / totalS : plain / count;
  return Math.min(1, Math.max(0, Math.exp(mean)));
}

/**
 * The transcript in a transcription response body, or undefined when it has no `text` string.
 * `segments` may be missing (a `json` answer, or a server that leaves them out).
 */
export function parseTranscription(body: unknown): ParsedTranscription | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.text !== 'string') return undefined;
  const parsed: ParsedTranscription = { text: b.text.trim() };
  const language = whisperLanguageCode(b.language);
  if (language) parsed.language = language;
  const confidence = segmentsConfidence(b.segments);
  if (confidence !== undefined) parsed.confidence = confidence;
  return parsed;
}
