import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getSessionIntelligence } from '../../domain/intelligence.js';
import { phoneCallsOfSession } from '../../domain/phone-calls.js';
import { principalOf } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorResponses, idParams } from './schemas.js';

/** Response of spec 000 `GET /api/sessions/:id/intelligence` (see docs/intelligence.md). */
export const sessionIntelligenceResponse = z.object({
  overallSentiment: z.enum(['positive', 'neutral', 'negative']),
  sentimentScore: z.number().min(-1).max(1).describe('AFINN sentiment normalized to −1..1'),
  extractedTopics: z.array(z.string()).describe('Up to 8 keyphrases, most frequent first'),
  actionItems: z.array(z.string()).describe('Sentences that ask for or commit to an action'),
  urgencyLevel: z.enum(['standard', 'elevated', 'urgent']),
  transcriptCount: z.number().int().describe('Final transcripts with words'),
  speakerCount: z.number().int().describe('Distinct participants who spoke'),
  averageConfidence: z.number().min(0).max(1).describe('Mean recognizer confidence in 0..1 over the transcripts that have one; 0 when none has'),
  averageLatencyMs: z.number().int().describe('Mean end-of-speech → translation latency in ms; 0 when none was measured'),
  durationSeconds: z.number().int().describe('ended_at − started_at in whole seconds'),
  phoneCalls: z.array(z.object({
    callId: z.string(), provider: z.string(), phoneNumber: z.string(),
    status: z.string().describe('initiated, then the provider\'s: queued, ringing, in-progress, forwarding, ended'),
    endedReason: z.string().nullable(), startedAt: z.string().nullable(), endedAt: z.string().nullable(),
    durationSeconds: z.number().int(),
  })).describe('Phone calls placed into the session (POST /api/sessions/:id/phone/start); their transcripts count above'),
});

/**
 * Session intelligence of spec 000: `GET /sessions/:id/intelligence` (mounted under `/api`), for any
 * role of the session's organization. 404 `NOT_FOUND` for an unknown session or one of another
 * organization; 409 `CONFLICT` while the session is not completed. Besides spec 000's fields it lists
 * the session's phone calls (`phoneCalls`, docs/phone.md), whose final transcripts count as the
 * session's transcripts.
 */
export const intelligenceRoutes: PlatformRoutePlugin = async (app, ctx) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/sessions/:id/intelligence', {
    schema: {
      tags: ['sessions'],
      summary: 'Intelligence of a completed session: sentiment, topics, action items, urgency, confidence and latency',
      params: idParams,
      response: { 200: sessionIntelligenceResponse, ...errorResponses },
    },
  }, async (request) => {
    const intelligence = await getSessionIntelligence(ctx.db, principalOf(request).organizationId, request.params.id);
    return { ...intelligence, phoneCalls: await phoneCallsOfSession(ctx.db, request.params.id) };
  });
};
