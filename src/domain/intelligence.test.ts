import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  actionItemsOf, computeSessionIntelligence, MAX_TOPICS, sentimentOf, topicsOf, urgencyLevelOf,
  type IntelligenceUtterance,
} from './intelligence.js';

const DOCTOR = 'part_doctor';
const PATIENT = 'part_patient';

function said(participantId: string, text: string, confidence: number | null = null, translationLatencyMs: number | null = null): IntelligenceUtterance {
  return { participantId, text, confidence, translationLatencyMs };
}

/** A clinic visit that goes badly for the patient: clearly negative, with instructions and a deadline. */
const CLINIC_VISIT: IntelligenceUtterance[] = [
  said(DOCTOR, 'Good morning, what brings you in today?', 0.9, 300),
  said(PATIENT, 'I have had a terrible headache for three days and I feel awful.', 0.8, 420),
  said(PATIENT, 'The pain is getting worse and I am worried.', 0.7, null),
  said(DOCTOR, 'Please take the medication twice a day.', null, 350),
  said(DOCTOR, 'We need to schedule a follow-up by Friday.', 0.95, 290),
  said(PATIENT, 'I hate these headaches, the medication never helps.', null, null),
];

describe('computeSessionIntelligence: a clinic visit', () => {
  const startedAt = new Date('2026-04-11T14:00:00Z');
  const endedAt = new Date('2026-04-11T14:22:00.400Z');
  const result = computeSessionIntelligence({ startedAt, endedAt, utterances: CLINIC_VISIT });

  it('reads the visit as negative, with a score in −1..0', () => {
    assert.equal(result.overallSentiment, 'negative');
    assert.ok(result.sentimentScore < -0.1 && result.sentimentScore >= -1, `score ${result.sentimentScore}`);
  });

  it('finds the instruction and the follow-up with its deadline as action items, and nothing else', () => {
    assert.deepEqual(result.actionItems, ['Please take the medication twice a day.', 'We need to schedule a follow-up by Friday.']);
  });

  it('extracts the key nouns of the visit as topics, most frequent first, singular, without pronouns or durations', () => {
    // headache ×2 ("headaches" included) and medication ×2 first, then in order of first mention.
    assert.deepEqual(result.extractedTopics, ['headache', 'medication', 'morning', 'pain', 'friday']);
  });

  it('counts transcripts and speakers, averages confidence and latency, and measures the duration exactly', () => {
    assert.equal(result.transcriptCount, 6);
    assert.equal(result.speakerCount, 2);
    assert.equal(result.averageConfidence, 0.84); // (0.9 + 0.8 + 0.7 + 0.95) / 4 = 0.8375
    assert.equal(result.averageLatencyMs, 340); // (300 + 420 + 350 + 290) / 4
    assert.equal(result.durationSeconds, 1320);
    assert.equal(result.urgencyLevel, 'standard');
  });
});

describe('computeSessionIntelligence: edge cases', () => {
  it('reports 0 confidence and latency (numbers, as spec 000 shows them) when the engine gave none', () => {
    const result = computeSessionIntelligence({
      startedAt: new Date(0), endedAt: new Date(61_499),
      utterances: [said('a', 'hello there'), said('a', 'how are you'), said('b', 'fine thanks')],
    });
    assert.equal(result.averageConfidence, 0);
    assert.equal(result.averageLatencyMs, 0);
    assert.equal(result.transcriptCount, 3);
    assert.equal(result.speakerCount, 2);
    assert.equal(result.durationSeconds, 61);
  });

  it('ignores blank finals and gives neutral, empty results for a silent session', () => {
    const result = computeSessionIntelligence({ startedAt: null, endedAt: new Date(), utterances: [said('a', '  ', 0.5, 100)] });
    assert.deepEqual(result, {
      overallSentiment: 'neutral', sentimentScore: 0, extractedTopics: [], actionItems: [], urgencyLevel: 'standard',
      transcriptCount: 0, speakerCount: 0, averageConfidence: 0, averageLatencyMs: 0, durationSeconds: 0,
    });
  });

  it('reads a grateful conversation as positive', () => {
    const result = computeSessionIntelligence({
      startedAt: null, endedAt: null,
      utterances: [
        said(DOCTOR, 'Your results are excellent, the treatment worked.'),
        said(PATIENT, 'Thank you so much, that is wonderful news. I feel great.'),
      ],
    });
    assert.equal(result.overallSentiment, 'positive');
    assert.ok(result.sentimentScore > 0.5 && result.sentimentScore <= 1, `score ${result.sentimentScore}`);
  });
});

describe('urgencyLevelOf', () => {
  const cases: Array<{ texts: string[]; level: string }> = [
    { texts: ['Please take the medication twice a day.'], level: 'standard' },
    { texts: ['Please call me back as soon as possible.'], level: 'elevated' },
    { texts: ['This is an emergency.'], level: 'urgent' },
    { texts: ['My father has severe pain in his chest.'], level: 'urgent' },
    { texts: ["She can't breathe!"], level: 'urgent' },
    { texts: ['We need the results right away.', 'It is urgent.'], level: 'urgent' },
    { texts: ["It's not an emergency, and it isn't urgent."], level: 'standard' },
  ];
  for (const { texts, level } of cases) {
    it(`${texts.join(' ')} → ${level}`, () => {
      assert.equal(urgencyLevelOf(texts), level);
    });
  }

  it('escalates a whole session when a visit turns into an emergency', () => {
    const utterances = [...CLINIC_VISIT, said(PATIENT, 'Now I have severe pain, I think this is an emergency.')];
    assert.equal(computeSessionIntelligence({ startedAt: null, endedAt: null, utterances }).urgencyLevel, 'urgent');
  });
});

describe('actionItemsOf', () => {
  it('keeps requests, obligations, commitments and deadlines, and drops statements and questions that ask nothing', () => {
    const texts = [
      'Finalize the contract by Friday.',
      'I will send the lab results to your doctor tomorrow.',
      'You should drink more water.',
      'The report is due Friday.',
      'what did the doctor say',
      'The pain will go away.',
      'It was cancelled due to the rain.',
      'I had to take a day off.',
      'Let me see.',
      'Do you need to eat?',
      'Could you send me the report?',
    ];
    assert.deepEqual(actionItemsOf(texts), [
      'Finalize the contract by Friday.',
      'I will send the lab results to your doctor tomorrow.',
      'You should drink more water.',
      'The report is due Friday.',
      'Could you send me the report?',
    ]);
  });

  it('splits an utterance into sentences and lists a repeated instruction once', () => {
    assert.deepEqual(actionItemsOf(['I feel better. Please rest at home.', 'Please rest at home.']), ['Please rest at home.']);
  });
});

describe('topicsOf and sentimentOf', () => {
  it('returns at most MAX_TOPICS lower-case singular keyphrases', () => {
    const topics = topicsOf(['The lab results, the blood pressure, the invoices, the contract, the nurse, the pharmacy, the X-ray, the insurance card, the appointment and the bill.']);
    assert.equal(topics.length, MAX_TOPICS);
    assert.deepEqual(topics.slice(0, 3), ['lab result', 'blood pressure', 'invoice']);
  });

  it('labels scores with the ±0.1 thresholds', () => {
    assert.deepEqual([0.1, 0.09, 0, -0.09, -0.1].map(sentimentOf), ['positive', 'neutral', 'neutral', 'neutral', 'negative']);
  });
});
