/** Latencies a benchmark client measures on a `/vt` stream's events (bench/stream-latency.ts, bench/preemptive.ts). */
import type { ReceivedEvent } from '../src/client/vt-client.js';

/** One utterance's latencies from the end of its speech, in ms: to its final transcript, its translation, its first audio. */
export interface Sample { final: number; translation: number; firstAudio: number }

/** The `p`th percentile (0–100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/**
 * Client-side latencies of each utterance: speech end is start + duration on the stream's audio
 * clock (`streamStartWallMs`: the server's clock for `start`), placed on the client's clock at
 * `firstSendAtMs` (when the first audio was sent). Utterances without a translation or audio are left out.
 */
export function clientLatencies(events: ReceivedEvent[], firstSendAtMs: number, streamStartWallMs: number): Sample[] {
  const out: Sample[] = [];
  for (const f of events) {
    if (f.kind !== 'transcript' || !f.final || !f.text) continue;
    const speechEndAudioMs = Date.parse(f.start) - streamStartWallMs + f.duration;
    const speechEndWall = firstSendAtMs + speechEndAudioMs;
    const t = events.find((e) => e.kind === 'translate' && e.utteranceId === f.utteranceId);
    const a = t ? events.find((e) => e.kind === 'audio' && e.atMs >= t.atMs) : undefined;
    if (!t || !a) continue;
    out.push({ final: f.atMs - speechEndWall, translation: t.atMs - speechEndWall, firstAudio: a.atMs - speechEndWall });
  }
  return out;
}
