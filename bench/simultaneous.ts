/**
 * Simultaneous mode against consecutive mode, in one run (docs/stream-protocol.md "Simultaneous mode").
 *
 * Audio: ≥ 60 s of continuous speech (test/continuous-speech.ts): the five LibriVox recordings of
 * pocketsphinx-testdata in order, repeated, each pause the energy VAD finds cut to 40 ms, so the
 * endpointer sees no pause: utterances end only at its 20 s hard limit (or the stream's end).
 * The same audio goes through a {@link TranslationPipeline} on the offline engines (pocketsphinx,
 * Apertium, espeak-ng; MT and TTS in their child processes), pushed at real-time pace in 20 ms
 * blocks, once per mode and round (the order alternates). In-process: the pipeline's events carry
 * what the wire does not (a `final: false` translation's committed source text).
 *
 * Measures per mode:
 * - Ear-voice span (EVS): source word spoken → its translation starts to be heard. A word's time
 *   is when the recognizer first had a word at its position: the wall time of the first interim
 *   hypothesis of its utterance with more words than its index (audio is pushed in real time, so
 *   wall time is audio time; it is the word's end as the 100 ms decode blocks first reveal it, so
 *   the span from the word's start is longer by the word's length, ~0.3 s). Heard: audio is played
 *   as a client does, block after block without overlap, from when it arrives; a word is heard when
 *   the first block of the speech that carries it starts to play: its committed segment's (each
 *   `final: false` translation's `transcript` says which source words it committed), else the
 *   final's speech of the rest of the utterance (consecutive mode: always the final's).
 * - Retractions: committed source text that is not a prefix of its utterance's final transcript
 *   (speech that the final contradicts); must be 0.
 * - Displayed-translation revisions per minute: a displayed translation (an utterance's
 *   `final: false` texts, then its final) that does not extend the one shown before it.
 * - Quality: chrF (bench/chrf.ts: Popović 2015, character 6-grams, β = 2) of the translation heard
 *   (committed segments' translations, then the MT of the rest of each final) against the
 *   consecutive translation of the same audio, and both modes' chrF against the Apertium
 *   translation of the recordings' reference transcription; ratio simultaneous ÷ consecutive.
 * Usage: node --import tsx bench/simultaneous.ts [--rounds 1] [--max-words 8] [--min-words 3]
 * Writes bench/results/simultaneous.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import { pcmBlocks } from '../src/providers/testing/index.js';
import { TranslationPipeline, type PipelineEvent } from '../src/pipeline/translation-pipeline.js';
import { translateWithGlossary } from '../src/pipeline/translate-speak.js';
import { transcriptWords } from '../src/pipeline/simultaneous.js';
import { closeTestEngines, testEngines } from '../test/helpers.js';
import { continuousLibrivoxWithText } from '../test/continuous-speech.js';
import { percentile } from './client-latency.js';
import { chrF } from './chrf.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const ROUNDS = arg('--rounds', 1);
const POLICY = { minSegmentWords: arg('--min-words', 3), maxSegmentWords: arg('--max-words', 8) };
const RATE_HZ = 16000;
const BLOCK_MS = 20;
const { samples: AUDIO, reference: SAID } = continuousLibrivoxWithText(60_000);
const AUDIO_MS = (AUDIO.length * 1000) / RATE_HZ;

interface Timed { atMs: number; event: PipelineEvent }

/** Pushes the audio in real time (then 1.5 s of silence) and returns every event with its wall time. */
async function run(simultaneous: boolean): Promise<Timed[]> {
  const engines = await testEngines();
  const timed: Timed[] = [];
  const pipeline = new TranslationPipeline(engines, {
    sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', sampleRateHz: RATE_HZ, vocabulary: [], dictionary: [],
    interim: true, final: true, translate: true, endpointSilenceMs: 300, maxUtteranceMs: 10_000, vad: 'energy',
    simultaneous, segmentPolicy: POLICY,
  }, (event) => timed.push({ atMs: Date.now(), event }));
  await pipeline.start();
  const audio = new Int16Array(AUDIO.length + RATE_HZ * 1.5);
  audio.set(AUDIO);
  const t0 = Date.now();
  let sent = 0;
  for (const block of pcmBlocks(audio, BLOCK_MS, RATE_HZ)) {
    pipeline.push(block);
    sent++;
    const wait = t0 + sent * BLOCK_MS - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await pipeline.close(60_000);
  return timed;
}

interface UtteranceLog {
  /** Wall time each word position first appeared in an interim. */
  wordSeenAtMs: number[];
  /** Committed source word counts, per segment, with the play start of the segment's speech. */
  segments: Array<{ words: number; heardAtMs: number | undefined; arrivedAtMs: number | undefined; committed: string; translation: string }>;
  final?: string;
  finalTranslation?: string;
  restHeardAtMs?: number;
  restArrivedAtMs?: number;
  displayed: string[];
}

/** Synthesized speech received in the last {@link utterances} call, in ms. */
let speechMs = 0;

/** Groups the events by utterance, playing the audio as a client does to find when each part is heard. */
function utterances(timed: Timed[]): UtteranceLog[] {
  const logs = new Map<string, UtteranceLog>();
  let playEndMs = 0;
  speechMs = 0;
  let awaitingFirstBlock: { log: UtteranceLog; part: 'segment' | 'rest' } | undefined;
  for (const { atMs, event: e } of timed) {
    if (e.type === 'error') throw new Error(e.description);
    const log = logs.get(e.utteranceId) ?? { wordSeenAtMs: [], segments: [], displayed: [] };
    logs.set(e.utteranceId, log);
    if (e.type === 'transcript' && !e.final) {
      const n = transcriptWords(e.text).length;
      while (log.wordSeenAtMs.length < n) log.wordSeenAtMs.push(atMs);
    } else if (e.type === 'transcript') {
      log.final = e.text;
    } else if (e.type === 'translation') {
      log.displayed.push(e.text);
      if (!e.final) {
        log.segments.push({ words: transcriptWords(e.transcript).length, heardAtMs: undefined, arrivedAtMs: undefined, committed: e.transcript, translation: e.text });
        awaitingFirstBlock = { log, part: 'segment' };
      } else {
        log.finalTranslation = e.text;
        awaitingFirstBlock = { log, part: 'rest' };
      }
    } else if (e.type === 'audio') {
      const startMs = Math.max(atMs, playEndMs);
      playEndMs = startMs + (e.pcm.length / 2 / RATE_HZ) * 1000;
      speechMs += (e.pcm.length / 2 / RATE_HZ) * 1000;
      if (awaitingFirstBlock?.part === 'segment') {
        const seg = awaitingFirstBlock.log.segments.at(-1);
        if (seg) Object.assign(seg, { heardAtMs: startMs, arrivedAtMs: atMs });
      } else if (awaitingFirstBlock) Object.assign(awaitingFirstBlock.log, { restHeardAtMs: startMs, restArrivedAtMs: atMs });
      awaitingFirstBlock = undefined;
    }
  }
  return [...logs.values()].filter((l) => l.final);
}

/**
 * Ear-voice spans of every final word that is heard, in ms; with `arrival`, to when its speech
 * arrives instead of when it can be played (without the wait behind the speech before it).
 */
function earVoiceSpans(logs: UtteranceLog[], arrival = false): number[] {
  const spans: number[] = [];
  for (const log of logs) {
    const words = transcriptWords(log.final ?? '');
    let segment = 0;
    words.forEach((_, i) => {
      while (segment < log.segments.length && (log.segments[segment]?.words ?? 0) <= i) segment++;
      const part = segment < log.segments.length ? log.segments[segment] : undefined;
      const heard = arrival ? (part ? part.arrivedAtMs : log.restArrivedAtMs) : (part ? part.heardAtMs : log.restHeardAtMs);
      const seen = log.wordSeenAtMs[i] ?? log.wordSeenAtMs.at(-1);
      if (heard !== undefined && seen !== undefined) spans.push(heard - seen);
    });
  }
  return spans;
}

/** Share of the final words spoken in a committed segment (the rest waits for the final). */
function segmentWordShare(logs: UtteranceLog[]): number {
  let words = 0;
  let inSegments = 0;
  for (const log of logs) {
    words += transcriptWords(log.final ?? '').length;
    inSegments += log.segments.at(-1)?.words ?? 0;
  }
  return words === 0 ? 0 : inSegments / words;
}

function revisions(logs: UtteranceLog[]): number {
  let n = 0;
  for (const log of logs) log.displayed.forEach((text, i) => { if (i > 0 && !text.startsWith(log.displayed[i - 1] ?? '')) n++; });
  return n;
}

function retractions(logs: UtteranceLog[]): number {
  const final = (log: UtteranceLog): string => transcriptWords(log.final ?? '').join(' ');
  return logs.reduce((n, log) => n + log.segments.filter((s) => !`${final(log)} `.startsWith(`${transcriptWords(s.committed).join(' ')} `)).length, 0);
}

/** The translation heard: committed segments' translations, then the MT of the rest of the final. */
async function heardTranslation(log: UtteranceLog): Promise<string> {
  const last = log.segments.at(-1);
  if (!last) return log.finalTranslation ?? '';
  const rest = transcriptWords(log.final ?? '').slice(last.words).join(' ');
  const engines = await testEngines();
  return [last.translation, await translateWithGlossary(engines.mt, rest, 'en-US', 'es-ES', [])].filter(Boolean).join(' ');
}

interface ModeResult { evsMs: number[]; arrivalMs: number[]; speechMs: number; segmentShare: number; revisions: number; retractions: number; translation: string[]; transcript: string[] }

async function measure(simultaneous: boolean): Promise<ModeResult> {
  const logs = utterances(await run(simultaneous));
  const translation = simultaneous ? await Promise.all(logs.map(heardTranslation)) : logs.map((l) => l.finalTranslation ?? '');
  return { evsMs: earVoiceSpans(logs), arrivalMs: earVoiceSpans(logs, true), speechMs, segmentShare: segmentWordShare(logs), revisions: revisions(logs), retractions: retractions(logs), translation, transcript: logs.map((l) => l.final ?? '') };
}

async function main(): Promise<void> {
  const engines = await testEngines();
  const referenceText = await translateWithGlossary(engines.mt, SAID, 'en-US', 'es-ES', []);
  const all: Record<'consecutive' | 'simultaneous', ModeResult[]> = { consecutive: [], simultaneous: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const simultaneous of order) all[simultaneous ? 'simultaneous' : 'consecutive'].push(await measure(simultaneous));
  }
  const minutes = (AUDIO_MS * ROUNDS) / 60_000;
  const summary = (r: ModeResult[]) => {
    const evs = r.flatMap((x) => x.evsMs);
    const text = r.map((x) => x.translation.join(' '));
    return {
      evsMedianMs: Math.round(percentile(evs, 50)), evsP90Ms: Math.round(percentile(evs, 90)), words: evs.length,
      // Word → its speech arrives (no wait behind earlier speech), and the speech heard per round.
      arrivalMedianMs: Math.round(percentile(r.flatMap((x) => x.arrivalMs), 50)), arrivalP90Ms: Math.round(percentile(r.flatMap((x) => x.arrivalMs), 90)),
      speechSecondsPerRound: +(r.reduce((n, x) => n + x.speechMs, 0) / r.length / 1000).toFixed(1),
      wordsSpokenInSegments: +(r.reduce((n, x) => n + x.segmentShare, 0) / r.length).toFixed(2),
      retractions: r.reduce((n, x) => n + x.retractions, 0), revisionsPerMinute: +(r.reduce((n, x) => n + x.revisions, 0) / minutes).toFixed(1),
      chrfVsReference: +chrF(text, text.map(() => referenceText)).toFixed(1),
    };
  };
  const consecutive = summary(all.consecutive);
  const simultaneous = summary(all.simultaneous);
  const heard = all.simultaneous.map((x) => x.translation.join(' '));
  const chrfVsConsecutive = +chrF(heard, all.consecutive.map((x) => x.translation.join(' '))).toFixed(1);
  const result = {
    audioSeconds: +(AUDIO_MS / 1000).toFixed(1), rounds: ROUNDS, policy: POLICY, cpus: os.cpus().length, load: os.loadavg()[0],
    consecutive, simultaneous, chrfSimultaneousVsConsecutive: chrfVsConsecutive,
    qualityRatio: +(simultaneous.chrfVsReference / consecutive.chrfVsReference).toFixed(3),
    evsMedianRatio: +(simultaneous.evsMedianMs / consecutive.evsMedianMs).toFixed(3),
    sample: { consecutive: all.consecutive[0]?.translation.slice(0, 1), simultaneous: all.simultaneous[0]?.translation.slice(0, 1) },
  };
  console.log(JSON.stringify(result, null, 2));
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/simultaneous.json', `${JSON.stringify(result, null, 2)}\n`);
  await closeTestEngines();
}

await main();
