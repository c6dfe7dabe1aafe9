import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { recordAudit } from '../../domain/audit.js';
import { organizationsOf } from '../../domain/memberships.js';
import { recordPhoneCall } from '../../domain/phone-calls.js';
import { findSession, type SessionRecord } from '../../domain/sessions.js';
import { AppError } from '../../errors.js';
import type { KeyPrincipal } from '../../domain/api-keys.js';
import type { PreparedPhoneCall } from '../../gateway/phone/phone-calls.js';
import { DialError, type DialedCall, type PhoneDialer } from '../../integrations/phone-dialer.js';
import { TwilioDialer } from '../../integrations/twilio-dialer.js';
import { missingVapiSettings, VapiDialer } from '../../integrations/vapi.js';
import { phoneCallsOf, twilioPhoneTelephonyOf } from '../telephony/twilio-phone.js';
import { principalOf, requireRole, roleAtLeast } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorBody, errorResponses, idParams } from './schemas.js';

/** E.164: `+`, a country code that does not start with 0, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{1,14}$/;

const phoneBody = z.object({
  phoneNumber: z.string().regex(E164, 'must be an E.164 number such as "+14155550199"').describe('The callee, E.164'),
  assistantId: z.string().trim().min(1).max(100).optional().describe('A Vapi assistant to use instead of VAPI_ASSISTANT_ID (Vapi only)'),
});
const phoneStarted = z.object({ callId: z.string(), status: z.literal('initiated') });

/** Dialers by context: one per process and configuration. */
const dialers = new WeakMap<AppContext, PhoneDialer>();

/**
 * The dialer of this server, or undefined when none is configured: Vapi when `VAPI_API_KEY`,
 * `VAPI_ASSISTANT_ID` and `VAPI_PHONE_NUMBER_ID` are set; else Tolk's own Twilio telephony when
 * `TWILIO_*` and `TOLK_PUBLIC_URL` are (docs/phone.md).
 */
export function phoneDialerFor(ctx: AppContext): PhoneDialer | undefined {
  let dialer = dialers.get(ctx);
  if (!dialer) {
    const twilio = twilioPhoneTelephonyOf(ctx)?.twilio;
    dialer = VapiDialer.from(ctx.config.vapi) ?? (twilio && phoneCallsOf(ctx) ? new TwilioDialer(twilio) : undefined);
    if (dialer) dialers.set(ctx, dialer);
  }
  return dialer;
}

/** The 501 message when no dialer is configured: what to set for each provider. */
function notConfiguredMessage(ctx: AppContext): string {
  const vapi = missingVapiSettings(ctx.config.vapi).join(', ');
  const twilio = ctx.config.twilio.ok ? 'the Twilio telephony did not start' : ctx.config.twilio.problem;
  return `Outbound phone calls are not configured on this server: set ${vapi} (Vapi), or TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER and TOLK_PUBLIC_URL (Twilio: ${twilio}) (docs/phone.md)`;
}

/**
 * Dials, turning the provider's failures into the route's answers (422 refused, 500 unavailable).
 * A Twilio call gets its handle first, so its callbacks find it however early they come.
 */
async function dial(
  ctx: AppContext, dialer: PhoneDialer, session: SessionRecord, principal: KeyPrincipal, body: { phoneNumber: string; assistantId?: string | undefined },
): Promise<{ call: DialedCall; prepared: PreparedPhoneCall | undefined }> {
  const prepared = dialer instanceof TwilioDialer
    ? phoneCallsOf(ctx)?.prepare({ session, principal, phoneNumber: body.phoneNumber })
    : undefined;
  try {
    const call = await dialer.dial({
      phoneNumber: body.phoneNumber, assistantId: body.assistantId, tolkCall: prepared?.handle,
      session: { id: session.id, sourceLang: session.sourceLang, targetLang: session.targetLang },
    });
    return { call, prepared };
  } catch (err) {
    prepared?.abandon();
    if (err instanceof DialError && err.kind === 'refused') throw new AppError('UNPROCESSABLE', `The call was refused: ${err.message}`);
    if (err instanceof DialError) throw new AppError('INTERNAL_ERROR', `The call could not be placed: ${err.message}`);
    throw err;
  }
}

/**
 * Spec 000 `POST /sessions/:id/phone/start` (under `/api`), owner or admin: calls `phoneNumber`
 * through the configured {@link PhoneDialer} (Vapi, else Twilio) and brings the callee into the session; answers
 * `{callId, status: "initiated"}`. Errors: 400 for a number that is not E.164; 403 for a member (of
 * the key's organization, then of the session's); 404 for an unknown session or another
 * organization's (checked first); 501 naming the missing settings when no dialer is configured; 409 when the session is not
 * `active`; 422 when the provider refuses the call, 500 when it cannot be reached (docs/phone.md).
 */
export const phoneRoutes: PlatformRoutePlugin = async (app, ctx) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/sessions/:id/phone/start', {
    preHandler: requireRole('admin'),
    schema: {
      tags: ['sessions'], summary: 'Call a phone number into a live session (owner/admin; Vapi, else Twilio)', params: idParams, body: phoneBody,
      response: { 200: phoneStarted, ...errorResponses, 422: errorBody, 501: errorBody },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const orgs = await organizationsOf(ctx.db, principal);
    const session = await findSession(ctx.db, [...orgs.keys()], request.params.id);
    const role = session ? orgs.get(session.organizationId) : undefined;
    if (!session || !role) throw new AppError('NOT_FOUND', `Session ${request.params.id} not found`);
    if (!roleAtLeast(role, 'admin')) throw new AppError('FORBIDDEN', `Starting a phone call requires the admin role or higher; this key's role is ${role}`);
    const dialer = phoneDialerFor(ctx); // after the lookup: an unknown or foreign session is 404 whatever is configured
    if (!dialer) throw new AppError('NOT_IMPLEMENTED', notConfiguredMessage(ctx));
    if (session.status !== 'active') {
      throw new AppError('CONFLICT', `Session ${session.id} is ${session.status}: a phone call joins an active session only`);
    }
    const { phoneNumber } = request.body;
    const { call, prepared } = await dial(ctx, dialer, session, principal, request.body);
    try {
      await recordPhoneCall(ctx.db, {
        callId: call.callId, sessionId: session.id, organizationId: session.organizationId, provider: call.provider,
        phoneNumber, assistantId: call.assistantId, createdByKeyId: principal.keyId,
      });
    } catch (err) {
      prepared?.abandon();
      throw err;
    }
    await prepared?.recorded(call.callId);
    await recordAudit(ctx.db, {
      organizationId: session.organizationId, actorKeyId: principal.keyId, action: 'session.phone_call_started', targetId: call.callId,
      detail: { sessionId: session.id, provider: call.provider },
    });
    return { callId: call.callId, status: 'initiated' as const };
  });
};
