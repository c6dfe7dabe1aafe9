import { z } from 'zod';
import { contentResponse, noContent, type RouteDocs } from '../openapi.js';

const FORM = ['application/x-www-form-urlencoded'];
const signature = z.object({ 'x-twilio-signature': z.string().describe('Twilio\'s HMAC-SHA1 of the public URL and the form parameters (TWILIO_AUTH_TOKEN)') });
const forbidden = contentResponse('text/plain', 'Forbidden: missing or invalid X-Twilio-Signature');
const unavailable = contentResponse('text/plain', 'Twilio is not configured on this server (TWILIO_*, TOLK_PUBLIC_URL)');

/** A Twilio status callback's form (Twilio "StatusCallback"), as far as Tolk reads it. */
const statusForm = z.looseObject({
  CallSid: z.string(),
  CallStatus: z.enum(['queued', 'initiated', 'ringing', 'in-progress', 'answered', 'completed', 'busy', 'no-answer', 'canceled', 'failed']),
});

function statusDocs(param: string): RouteDocs {
  return {
    consumes: FORM,
    params: z.object({ [param]: z.string() }),
    headers: signature,
    body: statusForm,
    response: {
      204: noContent('Applied, or no progress (out of order, or the call has ended)'),
      400: contentResponse('text/plain', 'Unknown CallStatus'),
      403: forbidden,
      404: noContent('No such session or call'),
      503: unavailable,
    },
  };
}

/** `POST /twilio/status/{sessionId}` (docs/calls.md "Twilio"): a call session's status callbacks. */
export const callStatusDocs = statusDocs('sessionId');

/** `POST /twilio/phone/{callRef}/status` (docs/phone.md "Twilio"): a platform phone call's status callbacks. */
export const phoneStatusDocs = statusDocs('callRef');

/** `POST /twilio/voice/{sessionId}`: a call's voice webhook, answered with TwiML. */
export const voiceDocs: RouteDocs = {
  consumes: FORM,
  params: z.object({ sessionId: z.string() }),
  headers: signature,
  body: z.looseObject({ CallSid: z.string(), From: z.string().optional(), To: z.string().optional() }),
  response: {
    200: contentResponse('text/xml', 'TwiML: <Connect><Stream> to the session\'s media socket when it waits for this call, else <Hangup/>'),
    403: forbidden,
    503: unavailable,
  },
};
