import { DialError, type DialedCall, type DialRequest, type PhoneDialer } from './phone-dialer.js';
import { TWILIO_PATHS, type TwilioTelephony } from './twilio.js';

/** The fields of the `twilio` client's `RestException` Tolk reads. */
interface RestExceptionLike {
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * {@link PhoneDialer} through Tolk's own Twilio account (docs/phone.md "Twilio"): `calls.create`
 * from `TWILIO_PHONE_NUMBER` to the callee with TwiML `<Connect><Stream
 * url="wss://…/twilio/phone/{ref}/media/{mediaToken}">` (a `sessionId` `<Parameter>` too) and
 * signed status callbacks to `/twilio/phone/{ref}/status`. The call's audio then runs through
 * Tolk's own engines. Needs the request's `tolkCall`.
 */
export class TwilioDialer implements PhoneDialer {
  readonly provider = 'twilio';

  constructor(private readonly twilio: TwilioTelephony) {}

  /**
   * @returns the Call SID (`CA…`) as `callId` and Twilio's status (`queued`).
   * @throws {DialError} `refused` when Twilio answers 4xx (an invalid or unverified number, a
   *   geographic permission, …; Twilio's code and message in the text), `unavailable` on 5xx, a
   *   timeout (10 s) or a network error.
   * @throws {Error} when `request.tolkCall` is missing (a programming error).
   */
  async dial(request: DialRequest): Promise<DialedCall> {
    const handle = request.tolkCall;
    if (!handle) throw new Error('TwilioDialer.dial needs request.tolkCall (the call reference and media token)');
    const twiml = this.twilio.streamTwiml(TWILIO_PATHS.phoneMedia(handle.ref, handle.mediaToken), { sessionId: request.session.id });
    try {
      const call = await this.twilio.placeStreamCall({ to: request.phoneNumber, twiml, statusPath: TWILIO_PATHS.phoneStatus(handle.ref) });
      return { callId: call.callSid, provider: this.provider, providerStatus: call.status };
    } catch (err) {
      throw dialErrorOf(err);
    }
  }
}

/** A Twilio failure as a {@link DialError}: a 4xx `RestException` is a refusal, anything else unavailability. */
export function dialErrorOf(err: unknown): DialError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as RestExceptionLike;
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  if (typeof e.status === 'number') {
    const code = typeof e.code === 'number' ? ` (error ${e.code})` : '';
    const kind = e.status >= 400 && e.status < 500 ? 'refused' : 'unavailable';
    return new DialError(kind, `Twilio answered ${e.status}${code}: ${message}`);
  }
  return new DialError('unavailable', `Twilio could not be reached: ${message}`);
}
