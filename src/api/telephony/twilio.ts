import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { CallSession } from '../../domain/calls/model.js';
import type { CallControl, CallTelephony, ProviderStatusUpdate } from '../../domain/calls/telephony.js';
import { AppError } from '../../errors.js';
import { TwilioTelephony, type TwilioHttpClient } from '../../integrations/twilio.js';
import { TwilioNotConfiguredError } from '../../integrations/twilio-settings.js';
import type { TolkConfig } from '../../config.js';
import { TwilioMediaConnection } from '../../transports/twilio-media.js';
import { twilioPhoneRoutes } from './twilio-phone.js';
import { isProviderStatusProgress, providerStatusFromCallStatus } from './twilio-status.js';
import { callStatusDocs, voiceDocs } from './openapi-schemas.js';

/** Largest form body Twilio posts to a webhook here, in bytes (status callbacks are ~1 KB). */
const FORM_BODY_LIMIT_BYTES = 64 * 1024;
/** Time Twilio has to send `start` after a Media Stream socket opened, in ms. */
const MEDIA_START_TIMEOUT_MS = 10_000;
/** Time a Media Stream may go without media (Twilio sends 50 frames a second), in ms. */
const MEDIA_IDLE_TIMEOUT_MS = 15_000;

/**
 * Twilio as the telephony provider of call sessions ({@link CallTelephony}, spec 004 `provider`):
 * places a session's call to `provider.phone_number` and hangs it up, through {@link TwilioTelephony}.
 */
export class TwilioCallTelephony implements CallTelephony {
  readonly type = 'twilio' as const;

  constructor(readonly twilio: TwilioTelephony) {}

  /**
   * @throws {AppError} UNPROCESSABLE when the session has no phone number to call; Twilio's
   *   `RestException` when Twilio refuses the call.
   */
  async placeCall(session: CallSession): Promise<{ providerCallId: string }> {
    const to = session.provider?.phoneNumber;
    if (!to) throw new AppError('UNPROCESSABLE', 'provider.phone_number is required to place a Twilio call');
    const call = await this.twilio.placeCall({ sessionId: session.id, to });
    return { providerCallId: call.callSid };
  }

  /** Ends the call; a call Twilio no longer has in progress (error 21220, or 404) counts as ended. */
  async hangUp(providerCallId: string): Promise<void> {
    try {
      await this.twilio.hangUp(providerCallId);
    } catch (err) {
      const e = err as { status?: number; code?: number };
      if (e.status === 404 || e.code === 21220 || e.code === 20404) return;
      throw err;
    }
  }
}

/**
 * The Twilio telephony of a server: configured from `TWILIO_*` and `TOLK_PUBLIC_URL`, or undefined
 * (a session asking for Twilio is then refused with {@link telephonyUnavailableError}).
 * @param httpClient - replaces the Twilio client's HTTP client (tests: the Twilio simulator).
 */
export function createTwilioTelephony(config: TolkConfig, httpClient?: TwilioHttpClient): TwilioCallTelephony | undefined {
  if (!config.twilio.ok) return undefined;
  return new TwilioCallTelephony(new TwilioTelephony(config.twilio.settings, { httpClient }));
}

/**
 * The 422 a call session with `provider.type: "twilio"` gets when Twilio is not configured: it
 * names every missing variable and how to set them.
 */
export function telephonyUnavailableError(config: TolkConfig): AppError {
  return new TwilioNotConfiguredError(config.twilio.ok ? 'the telephony provider did not start' : config.twilio.problem);
}

/** The server's Twilio account, when Twilio is the configured provider. */
function twilioOf(ctx: AppContext): TwilioTelephony | undefined {
  return ctx.telephony instanceof TwilioCallTelephony ? ctx.telephony.twilio : undefined;
}

type Form = Record<string, string>;

/**
 * Twilio's endpoints (docs/calls.md "Twilio"): `POST /twilio/status/:sessionId` (status callbacks),
 * `POST /twilio/voice/:sessionId` (a call's voice webhook: attaches it to a waiting session) and
 * the Media Stream socket `GET /twilio/media/:sessionId`; and those of phone calls into platform
 * sessions ({@link twilioPhoneRoutes}). Every request must carry Twilio's
 * `X-Twilio-Signature` for the public URL (and its form parameters): 403 otherwise.
 */
export async function twilioRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
  });
  // Phone calls into platform sessions (spec 000 `phone/start`, docs/phone.md "Twilio").
  await twilioPhoneRoutes(app, ctx, { startTimeoutMs: MEDIA_START_TIMEOUT_MS, idleMediaTimeoutMs: MEDIA_IDLE_TIMEOUT_MS });
  const verifyWebhook = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const twilio = twilioOf(ctx);
    if (!twilio || !ctx.calls) return void reply.code(503).type('text/plain').send(telephonyUnavailableError(ctx.config).message);
    const form = (request.body ?? {}) as Form;
    if (!twilio.verifySignature(header(request, 'x-twilio-signature'), request.url, form)) {
      request.log.warn({ url: request.url }, 'twilio webhook with a missing or wrong X-Twilio-Signature');
      return void reply.code(403).type('text/plain').send('Forbidden: missing or invalid X-Twilio-Signature');
    }
  };
  app.post<{ Params: { sessionId: string }; Body: Form }>('/twilio/status/:sessionId', { preHandler: verifyWebhook, schema: { tags: ['webhooks'], summary: 'Twilio status callbacks of a call session', security: [], docs: callStatusDocs } }, async (request, reply) => {
    const calls = ctx.calls as CallControl;
    const status = providerStatusFromCallStatus(request.body.CallStatus ?? '');
    if (!status) return reply.code(400).type('text/plain').send(`Unknown CallStatus "${request.body.CallStatus ?? ''}"`);
    const reason = status === 'failed' ? request.body.CallStatus : undefined;
    const applied = await reportIfProgress(calls, request.params.sessionId, { status, providerCallId: request.body.CallSid, reason });
    return reply.code(applied === 'not-found' ? 404 : 204).send();
  });
  app.post<{ Params: { sessionId: string }; Body: Form }>('/twilio/voice/:sessionId', { preHandler: verifyWebhook, schema: { tags: ['webhooks'], summary: 'Twilio voice webhook of a call session (TwiML)', security: [], docs: voiceDocs } }, async (request, reply) => {
    const twiml = await answerInboundCall(ctx.calls as CallControl, twilioOf(ctx) as TwilioTelephony, request.params.sessionId, request.body);
    return reply.type('text/xml').send(twiml);
  });
  const mediaHolders = new Set<string>(); // sessions whose media leg is attached in this process
  app.get<{ Params: { sessionId: string } }>('/twilio/media/:sessionId', {
    websocket: true,
    preValidation: async (request, reply) => {
      const twilio = twilioOf(ctx);
      if (!twilio || !ctx.calls) return void reply.code(503).type('text/plain').send(telephonyUnavailableError(ctx.config).message);
      if (!twilio.verifyStreamSignature(header(request, 'x-twilio-signature'), request.url)) {
        request.log.warn({ url: request.url }, 'twilio media stream upgrade with a missing or wrong X-Twilio-Signature');
        return void reply.code(403).type('text/plain').send('Forbidden: missing or invalid X-Twilio-Signature');
      }
    },
  }, (socket, request) => {
    const calls = ctx.calls as CallControl;
    const sessionId = request.params.sessionId;
    new TwilioMediaConnection(socket, {
      sessionId, calls: singleMediaLeg(calls, sessionId, socket, mediaHolders), maxFrameBytes: ctx.config.maxFrameBytes, maxBufferedBytes: ctx.config.maxBufferedBytes,
      startTimeoutMs: MEDIA_START_TIMEOUT_MS, idleMediaTimeoutMs: MEDIA_IDLE_TIMEOUT_MS, log: request.log,
      // The stream ends with the call: an inbound call has no status callbacks of its own.
      onStopped: ({ callSid }) => void reportIfProgress(calls, sessionId, { status: 'completed', providerCallId: callSid }).catch((err: unknown) => request.log.warn({ err }, 'twilio: reporting the end of the call failed')),
    });
  });
}

/**
 * `calls` for one media socket of `sessionId`, attaching at most one media leg per call in this
 * process: the signature of a Media Stream URL is the same for every upgrade, so a replayed
 * signature would otherwise add listeners and speakers to the call (docs/security.md "Telephony").
 * A second socket is closed at its `start` (1008); the place frees when the holder's socket closes.
 */
function singleMediaLeg(calls: CallControl, sessionId: string, socket: { once(event: 'close', listener: () => void): unknown }, holders: Set<string>): Pick<CallControl, 'attachMediaLeg'> {
  return {
    // The leg's own promise is returned as it is (no extra await): the stream starts in the same tick.
    attachMediaLeg: (id, leg, format, sink) => {
      if (holders.has(sessionId)) return Promise.reject(new AppError('CONFLICT', `Session ${sessionId} already has its media stream`));
      holders.add(sessionId);
      socket.once('close', () => holders.delete(sessionId));
      const attached = calls.attachMediaLeg(id, leg, format, sink);
      attached.catch(() => holders.delete(sessionId));
      return attached;
    },
  };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reports a provider status unless it is no progress for the session (out of order, or the session
 * ended). AppErrors of the calls side for a session that vanished or ended count as not applied.
 */
async function reportIfProgress(calls: CallControl, sessionId: string, update: ProviderStatusUpdate): Promise<'applied' | 'ignored' | 'not-found'> {
  const session = await calls.getSession(sessionId);
  if (!session) return 'not-found';
  if (session.status === 'ended' || !isProviderStatusProgress(session.provider?.status, update.status)) return 'ignored';
  try {
    await calls.reportProviderStatus(sessionId, update);
    return 'applied';
  } catch (err) {
    if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) return err.code === 'NOT_FOUND' ? 'not-found' : 'ignored';
    throw err;
  }
}

/**
 * The TwiML for a call reaching `POST /twilio/voice/{sessionId}`: the session must exist, not have
 * ended, use Twilio, and wait for its call (provider status `pending`; when it names a CallSid, this
 * call's). Then the call is reported `connected` and connected to the session's Media Stream;
 * otherwise Twilio is told to hang up.
 */
async function answerInboundCall(calls: CallControl, twilio: TwilioTelephony, sessionId: string, form: Form): Promise<string> {
  const hangUp = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
  const session = await calls.getSession(sessionId);
  const provider = session?.provider;
  if (!session || session.status === 'ended' || provider?.type !== 'twilio' || provider.status !== 'pending') return hangUp;
  if (provider.callSid && provider.callSid !== form.CallSid) return hangUp;
  const applied = await reportIfProgress(calls, sessionId, { status: 'connected', providerCallId: form.CallSid });
  return applied === 'applied' ? twilio.connectStreamTwiml(sessionId) : hangUp;
}
