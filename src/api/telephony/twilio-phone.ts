import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { PhoneCalls } from '../../gateway/phone/phone-calls.js';
import { TwilioTelephony } from '../../integrations/twilio.js';
import { TwilioMediaConnection } from '../../transports/twilio-media.js';
import { phoneStatusFromCallStatus } from './twilio-status.js';
import { phoneStatusDocs } from './openapi-schemas.js';

/** Timeouts of a Media Stream socket, in ms (as the call sessions' stream). */
export interface MediaTimeouts {
  startTimeoutMs: number;
  idleMediaTimeoutMs: number;
}

/** What the phone routes need of the calls telephony: the Twilio account and a hang-up that accepts ended calls. */
interface TwilioPhoneTelephony {
  twilio: TwilioTelephony;
  hangUp(callSid: string): Promise<void>;
}

/** The server's Twilio telephony, when configured. */
export function twilioPhoneTelephonyOf(ctx: AppContext): TwilioPhoneTelephony | undefined {
  const t = ctx.telephony as Partial<TwilioPhoneTelephony> | undefined;
  return t?.twilio instanceof TwilioTelephony && typeof t.hangUp === 'function' ? (t as TwilioPhoneTelephony) : undefined;
}

const registries = new WeakMap<AppContext, PhoneCalls>();

/**
 * The phone calls into platform sessions this process carries through Twilio, or undefined when
 * Twilio is not configured (spec 000 `phone/start` then dials through Vapi or answers 501).
 */
export function phoneCallsOf(ctx: AppContext): PhoneCalls | undefined {
  return registries.get(ctx);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type Form = Record<string, string>;
type Claim = NonNullable<Awaited<ReturnType<PhoneCalls['claimMedia']>>>;

/**
 * Twilio's endpoints for phone calls into platform sessions (docs/phone.md "Twilio"), registered
 * inside the Twilio routes' scope (its form parser): `POST /twilio/phone/:callRef/status` (status
 * callbacks → the `phone_calls` row) and the Media Stream socket `GET
 * /twilio/phone/:callRef/media/:token`. Both need Twilio's `X-Twilio-Signature` (403); the socket
 * also needs the call's single-use media token (403 when wrong, used or expired) — checked before
 * the upgrade, so a refusal allocates nothing. Without Twilio: 503.
 */
export async function twilioPhoneRoutes(app: FastifyInstance, ctx: AppContext, timeouts: MediaTimeouts): Promise<void> {
  const telephony = twilioPhoneTelephonyOf(ctx);
  const calls = telephony ? new PhoneCalls(ctx, (sid) => telephony.hangUp(sid), app.log) : undefined;
  if (calls) registries.set(ctx, calls);
  const claims = new WeakMap<FastifyRequest, Claim>();

  app.post<{ Params: { callRef: string }; Body: Form }>('/twilio/phone/:callRef/status', { schema: { tags: ['webhooks'], summary: 'Twilio status callbacks of a platform phone call', security: [], docs: phoneStatusDocs } }, async (request, reply) => {
    if (!telephony || !calls) return reply.code(503).type('text/plain').send('Twilio is not configured on this server');
    const form = (request.body ?? {}) as Form;
    if (!telephony.twilio.verifySignature(header(request, 'x-twilio-signature'), request.url, form)) {
      request.log.warn({ url: request.url }, 'twilio phone status callback with a missing or wrong X-Twilio-Signature');
      return reply.code(403).type('text/plain').send('Forbidden: missing or invalid X-Twilio-Signature');
    }
    const transition = phoneStatusFromCallStatus(form.CallStatus ?? '');
    if (!transition) return reply.code(400).type('text/plain').send(`Unknown CallStatus "${form.CallStatus ?? ''}"`);
    const result = await calls.reportStatus(request.params.callRef, form.CallSid ?? '', transition);
    return reply.code(result === 'unknown' ? 404 : 204).send();
  });

  app.get<{ Params: { callRef: string; token: string } }>('/twilio/phone/:callRef/media/:token', {
    websocket: true,
    preValidation: async (request, reply) => {
      if (!telephony || !calls) return void reply.code(503).type('text/plain').send('Twilio is not configured on this server');
      if (!telephony.twilio.verifyStreamSignature(header(request, 'x-twilio-signature'), request.url)) {
        request.log.warn({ callRef: request.params.callRef }, 'twilio phone media stream upgrade with a missing or wrong X-Twilio-Signature');
        return void reply.code(403).type('text/plain').send('Forbidden: missing or invalid X-Twilio-Signature');
      }
      const claim = await calls.claimMedia(request.params.callRef, request.params.token);
      if (!claim) {
        request.log.warn({ callRef: request.params.callRef }, 'twilio phone media stream with an unknown, used or expired token');
        return void reply.code(403).type('text/plain').send('Forbidden: unknown, used or expired media token');
      }
      claims.set(request, claim);
    },
  }, (socket, request) => {
    const claim = claims.get(request) as Claim;
    new TwilioMediaConnection(socket, {
      sessionId: request.params.callRef, maxFrameBytes: ctx.config.maxFrameBytes, maxBufferedBytes: ctx.config.maxBufferedBytes,
      ...timeouts, log: request.log,
      calls: { attachMediaLeg: async (_sessionId, _leg, format, sink) => claim.attach(format, sink) },
      onStopped: () => claim.end(),
    });
  });
}
