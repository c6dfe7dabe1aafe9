import nlp from 'compromise';
import { and, asc, eq } from 'drizzle-orm';
import Sentiment from 'sentiment';
import type { Database } from '../db/client.js';
import { sessions, utterances } from '../db/schema.js';
import { AppError } from '../errors.js';

/**
 * Session intelligence: what spec 000 `GET /api/sessions/:id/intelligence` returns for a completed
 * session. Computed in-process from the stored final transcripts (source language) with AFINN
 * (`sentiment`) and `compromise`; no external service. How each figure is computed: docs/intelligence.md.
 */

/** Overall tone of a session (from {@link SessionIntelligence.sentimentScore}). */
export type OverallSentiment = 'positive' | 'neutral' | 'negative';

/** How pressing a session sounded (see {@link urgencyLevelOf} for the rule). */
export type UrgencyLevel = 'standard' | 'elevated' | 'urgent';

/** One stored final transcript, as far as intelligence needs it (a row of `utterances`). */
export interface IntelligenceUtterance {
  /** The participant (leg) that spoke. */
  participantId: string;
  /** Source-language transcript; blank for a final that only closed interim transcripts. */
  text: string;
  /** Recognizer confidence in 0..1; null when the engine gives none. */
  confidence: number | null;
  /** From the end of speech to the translation being sent, in ms; null when not measured. */
  translationLatencyMs: number | null;
}

/** What {@link computeSessionIntelligence} needs: the session's times and its utterances in spoken order. */
export interface IntelligenceInput {
  /** When the session became active; null when it never did. */
  startedAt: Date | null;
  /** When the session was completed; null when it never was. */
  endedAt: Date | null;
  utterances: readonly IntelligenceUtterance[];
}

/** The response of spec 000 `GET /api/sessions/:id/intelligence`, field for field. */
export interface SessionIntelligence {
  overallSentiment: OverallSentiment;
  /** −1 (very negative) … 1 (very positive), 2 decimals. */
  sentimentScore: number;
  /** Up to {@link MAX_TOPICS} keyphrases, lower case, most frequent first. */
  extractedTopics: string[];
  /** Sentences that ask for or commit to an action, as spoken, in order, without duplicates. */
  actionItems: string[];
  urgencyLevel: UrgencyLevel;
  /** Final transcripts with words. */
  transcriptCount: number;
  /** Distinct participants among those transcripts. */
  speakerCount: number;
  /**
   * Mean recognizer confidence in 0..1, 2 decimals, over the transcripts that have one (for
   * pocketsphinx: the mean word posterior of each transcript of two words or more). Always a number,
   * as spec 000 shows it: 0 when no transcript carries a confidence (docs/intelligence.md).
   */
  averageConfidence: number;
  /** Mean end-of-speech → translation latency in whole ms; 0 when none was measured. */
  averageLatencyMs: number;
  /** `ended_at − started_at` in whole seconds (0 when either is missing). */
  durationSeconds: number;
}

/** At most this many topics are returned. */
export const MAX_TOPICS = 8;

/** `sentimentScore = tanh(SENTIMENT_GAIN × AFINN comparative)`: maps the per-word score into −1..1. */
export const SENTIMENT_GAIN = 2;

/** `sentimentScore` at or above this is positive, at or below its negation negative, neutral between. */
export const SENTIMENT_THRESHOLD = 0.1;

/**
 * Urgency cues. A critical cue weighs 2, a time-pressure cue 1; a cue preceded within two words by a
 * negation ("not an emergency", "isn't urgent") does not count.
 */
export const URGENCY_CUES = {
  critical: [
    'emergency', 'severe pain', 'chest pain', "can't breathe", 'cannot breathe', 'can not breathe', 'not breathing',
    'difficulty breathing', 'unconscious', 'heart attack', 'overdose', 'seizure', 'heavy bleeding', 'bleeding heavily',
    'ambulance', 'call 911', 'life-threatening', 'life threatening',
  ],
  timePressure: [
    'urgent', 'urgently', 'immediately', 'asap', 'as soon as possible', 'right away', 'straight away', 'without delay',
    'time-sensitive', 'time sensitive', 'top priority',
  ],
} as const;

/** Urgency weight from which a session is `urgent` (one critical cue, or two time-pressure cues). */
export const URGENT_FROM = 2;

const NEGATIONS = new Set(['not', 'no', 'never', 'without']);

/**
 * Spoken patterns (compromise match syntax) that ask for or commit to an action, besides imperatives:
 * obligations ("need to / have to / must / should <verb>"), commitments ("I/we/you will <verb>",
 * "going to <verb>"), polite requests and deadlines. `must/should be` counts only when passive.
 */
const ACTION_PATTERNS = [
  '(need|needs|have|has|got) to #Infinitive',
  '(must|should|ought) to? (#Infinitive && !be)',
  '(must|should) be #PastTense',
  '(i|we|you) (will|shall) #Verb',
  '(i|we|you) (am|are) going to #Verb',
  'please',
  "(let's|let us) #Verb",
  '(by|before|until) (#Date|the end of)',
  'no later than',
  'deadline',
  'due (#Date|by|on|before|in)',
];

/** A question is an action item only when it is a request ("Could you send…?", "…, please?"). */
const REQUEST_QUESTIONS = ['^(could|can|would|will) you #Verb', 'please'];

/** An imperative that is only conversational ("let me see") is not an action item. */
const NOT_ACTION = 'let me';

const sentimentAnalyzer = new Sentiment();

/**
 * Computes session intelligence (spec 000 `GET /api/sessions/:id/intelligence`) from the session's
 * times and its stored final transcripts, in spoken order. Pure: no I/O, same input → same output.
 * Blank transcripts (finals that only closed interim transcripts) are ignored throughout.
 */
export function computeSessionIntelligence(input: IntelligenceInput): SessionIntelligence {
  const spoken = input.utterances.filter((u) => u.text.trim() !== '');
  const texts = spoken.map((u) => u.text.trim());
  const sentimentScore = sentimentScoreOf(texts);
  return {
    overallSentiment: sentimentOf(sentimentScore),
    sentimentScore,
    extractedTopics: topicsOf(texts),
    actionItems: actionItemsOf(texts),
    urgencyLevel: urgencyLevelOf(texts),
    transcriptCount: spoken.length,
    speakerCount: new Set(spoken.map((u) => u.participantId)).size,
    averageConfidence: roundTo(meanOf(spoken.map((u) => u.confidence)), 2) ?? 0,
    averageLatencyMs: roundTo(meanOf(spoken.map((u) => u.translationLatencyMs)), 0) ?? 0,
    durationSeconds: durationSecondsOf(input.startedAt, input.endedAt),
  };
}

/**
 * AFINN-165 sentiment of the transcripts as one text: `tanh(SENTIMENT_GAIN × Σscore / Σtokens)`,
 * rounded to 2 decimals; 0 without words. AFINN scores words −5..5 and handles simple negation.
 */
export function sentimentScoreOf(texts: readonly string[]): number {
  let score = 0;
  let tokens = 0;
  for (const text of texts) {
    const result = sentimentAnalyzer.analyze(text);
    score += result.score;
    tokens += result.tokens.length;
  }
  if (tokens === 0) return 0;
  return roundTo(Math.tanh((SENTIMENT_GAIN * score) / tokens), 2) ?? 0;
}

/** The label of a sentiment score: see {@link SENTIMENT_THRESHOLD}. */
export function sentimentOf(score: number): OverallSentiment {
  if (score >= SENTIMENT_THRESHOLD) return 'positive';
  if (score <= -SENTIMENT_THRESHOLD) return 'negative';
  return 'neutral';
}

interface NounTerm {
  normal: string;
  root?: string;
  tags: string[];
}

/** A noun term that can be part of a topic: not a pronoun, possessive, number, duration or title. */
function isTopicTerm(term: NounTerm): boolean {
  const excluded = ['Pronoun', 'Possessive', 'Value', 'Duration', 'Honorific', 'QuestionWord'];
  return term.tags.includes('Noun') && !term.tags.some((tag) => excluded.includes(tag)) && /\p{L}/u.test(term.normal);
}

/**
 * Keyphrases: compromise's noun phrases, reduced to their runs of content nouns ("the lab results" →
 * "lab result", "your blood pressure" → "blood pressure"), singular and lower case; ranked by how
 * often they occur, then by first occurrence; at most {@link MAX_TOPICS}.
 */
export function topicsOf(texts: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    const doc = nlp(text);
    doc.compute('root');
    for (const phrase of doc.nouns().json() as Array<{ terms: NounTerm[] }>) {
      for (const keyphrase of contentRuns(phrase.terms)) counts.set(keyphrase, (counts.get(keyphrase) ?? 0) + 1);
    }
  }
  // Map keeps insertion order and sort is stable: ties stay in order of first occurrence.
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_TOPICS).map(([keyphrase]) => keyphrase);
}

/**
 * The singular of a noun term: compromise's root, except that its `-ches → -ch` rule also catches
 * the `-ache` nouns ("headaches" → "headach"), which are put right here.
 */
function singularOf(term: NounTerm): string {
  const root = (term.root ?? term.normal).toLowerCase();
  return /(^|[^aeiou])aches$/.test(term.normal) ? term.normal.replace(/aches$/, 'ache') : root;
}

function contentRuns(terms: readonly NounTerm[]): string[] {
  const runs: string[] = [];
  let run: string[] = [];
  for (const term of [...terms, undefined]) {
    if (term && isTopicTerm(term)) {
      run.push(singularOf(term));
    } else if (run.length > 0) {
      runs.push(run.join(' '));
      run = [];
    }
  }
  return runs;
}

/**
 * Sentences that ask for or commit to an action: imperatives as tagged by compromise ("Take the
 * medication…"), and sentences matching one of the action patterns (obligation, commitment,
 * "please", "let's", deadline). A question counts only as a request ("Could you send…?").
 * Returned trimmed, as spoken, in order, without duplicates.
 */
export function actionItemsOf(texts: readonly string[]): string[] {
  const items: string[] = [];
  for (const text of texts) {
    for (const sentence of nlp(text).sentences().out('array') as string[]) {
      const trimmed = sentence.trim();
      if (trimmed && isActionSentence(trimmed) && !items.includes(trimmed)) items.push(trimmed);
    }
  }
  return items;
}

function isActionSentence(sentence: string): boolean {
  const doc = nlp(sentence);
  if (doc.questions().found) return REQUEST_QUESTIONS.some((pattern) => doc.has(pattern));
  const imperative = doc.has('#Imperative') && !doc.has(`^${NOT_ACTION}`);
  return imperative || ACTION_PATTERNS.some((pattern) => doc.has(pattern));
}

/**
 * Urgency from {@link URGENCY_CUES}: weight = 2 × critical cues + time-pressure cues (each occurrence,
 * negated ones not counted); `urgent` from {@link URGENT_FROM}, `elevated` at 1, `standard` at 0.
 */
export function urgencyLevelOf(texts: readonly string[]): UrgencyLevel {
  let weight = 0;
  for (const text of texts) {
    const words = wordsOf(text);
    weight += 2 * countCues(words, URGENCY_CUES.critical) + countCues(words, URGENCY_CUES.timePressure);
  }
  if (weight >= URGENT_FROM) return 'urgent';
  return weight > 0 ? 'elevated' : 'standard';
}

/** Lower-case words with apostrophes kept ("can't") and other punctuation dropped. */
function wordsOf(text: string): string[] {
  return text.toLowerCase().replaceAll('’', "'").split(/[^\p{L}\p{N}'-]+/u).filter(Boolean);
}

function countCues(words: readonly string[], cues: readonly string[]): number {
  let count = 0;
  for (const cue of cues) {
    const cueWords = cue.split(' ');
    for (let i = 0; i + cueWords.length <= words.length; i++) {
      if (cueWords.every((w, j) => words[i + j] === w) && !isNegated(words, i)) count++;
    }
  }
  return count;
}

function isNegated(words: readonly string[], index: number): boolean {
  return words.slice(Math.max(0, index - 2), index).some((w) => NEGATIONS.has(w) || w.endsWith("n't"));
}

function meanOf(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return present.length === 0 ? null : present.reduce((sum, v) => sum + v, 0) / present.length;
}

function roundTo(value: number | null, decimals: number): number | null {
  if (value === null) return null;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function durationSecondsOf(startedAt: Date | null, endedAt: Date | null): number {
  if (!startedAt || !endedAt) return 0;
  return Math.max(0, Math.round((endedAt.getTime() - startedAt.getTime()) / 1000));
}

/**
 * Loads a session of an organization with its final transcripts and computes its intelligence
 * (spec 000 `GET /api/sessions/:id/intelligence`).
 * @throws {AppError} NOT_FOUND when the session does not exist or belongs to another organization
 *   (the same answer, so a session's existence is never revealed); CONFLICT when it is not completed.
 */
export async function getSessionIntelligence(db: Database, organizationId: string, sessionId: string): Promise<SessionIntelligence> {
  const [session] = await db
    .select({ status: sessions.status, startedAt: sessions.startedAt, endedAt: sessions.endedAt })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.organizationId, organizationId)))
    .limit(1);
  if (!session) throw new AppError('NOT_FOUND', `Session ${sessionId} not found`);
  if (session.status !== 'completed') {
    throw new AppError('CONFLICT', `Session ${sessionId} is ${session.status}: intelligence is available once the session is completed`);
  }
  const rows = await db
    .select({
      participantId: utterances.participantId, text: utterances.text,
      confidence: utterances.confidence, translationLatencyMs: utterances.translationLatencyMs,
    })
    .from(utterances)
    .where(and(eq(utterances.sessionId, sessionId), eq(utterances.organizationId, organizationId)))
    .orderBy(asc(utterances.startedAt), asc(utterances.createdAt));
  return computeSessionIntelligence({ startedAt: session.startedAt, endedAt: session.endedAt, utterances: rows });
}
