import twilio from 'twilio';
import type { TwilioSettings } from './twilio-settings.js';

/**
 * Twilio Programmable Voice behind a small seam (docs/architecture.md "Layout" "integrations"): places the phone call of
 * a spec-004 call session with `<Connect><Stream>` TwiML (a bidirectional Media Stream to
 * `wss://…/twilio/media/{sessionId}`), hangs it up, and checks the `X-Twilio-Signature` of what
 * Twilio sends (status callbacks, the voice webhook, the Media Stream's WebSocket upgrade). The
 * official `twilio` client does the REST calls; its `httpClient` option is the seam tests use.
 * See docs/calls.md "Twilio".
 */

/** Where Tolk's Twilio endpoints live, under {@link TwilioSettings.publicUrl}. */
export const TWILIO_PATHS = {
  /** Status callbacks of one session's call (POST, form-encoded). */
  status: (sessionId: string) => `/twilio/status/${encodeURIComponent(sessionId)}`,
  /** The voice webhook that attaches an inbound call to a waiting session (POST, form-encoded). */
  voice: (sessionId: string) => `/twilio/voice/${encodeURIComponent(sessionId)}`,
  /** The Media Stream of one session's call (WebSocket). */
  media: (sessionId: string) => `/twilio/media/${encodeURIComponent(sessionId)}`,
  /** Status callbacks of a phone call into a platform session (spec 000 `phone/start`), by Tolk's call reference. */
  phoneStatus: (callRef: string) => `/twilio/phone/${encodeURIComponent(callRef)}/status`,
  /** The Media Stream of a phone call into a platform session: the reference and its secret media token. */
  phoneMedia: (callRef: string, token: string) => `/twilio/phone/${encodeURIComponent(callRef)}/media/${encodeURIComponent(token)}`,
} as const;

/** The Twilio status callback events Tolk subscribes to (`StatusCallbackEvent`). */
export const STATUS_CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

/** Time one REST call to Twilio may take, in ms. */
const REST_TIMEOUT_MS = 10_000;

/** One request the `twilio` client hands its HTTP client (`RequestClient.request`'s options). */
export interface TwilioHttpRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  headers?: Record<string, string>;
  params?: object;
  data?: Record<string, unknown>;
  timeout?: number;
}

/** What an HTTP client answers the `twilio` client: status, body (JSON text or object), headers. */
export interface TwilioHttpResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, string>;
}

/** The `twilio` client's `httpClient` seam: anything with its `request()`. */
export interface TwilioHttpClient {
  request(opts: TwilioHttpRequest): Promise<TwilioHttpResponse>;
}

/** An outbound call Twilio accepted. */
export interface PlacedCall {
  /** The Call SID (`CA…`). */
  callSid: string;
  /** Twilio's status of the call resource right after creation (`queued` usually). */
  status: string;
}

/**
 * Tolk's Twilio account: places and ends calls, builds the URLs and TwiML Twilio is given, and
 * verifies Twilio's signatures.
 */
export class TwilioTelephony {
  private readonly client: twilio.Twilio;

  /**
   * @param settings - from {@link twilioSettingsFromEnv}.
   * @param options.httpClient - replaces the `twilio` client's HTTP client (tests route REST calls to a simulator).
   */
  constructor(readonly settings: TwilioSettings, options: { httpClient?: TwilioHttpClient } = {}) {
    this.client = twilio(settings.accountSid, settings.authToken, {
      timeout: REST_TIMEOUT_MS, autoRetry: true, maxRetries: 2,
      ...(options.httpClient ? { httpClient: options.httpClient as unknown as twilio.RequestClient } : {}),
    });
  }

  /** The public https URL of a Tolk path (where Twilio sends a webhook). */
  publicHttpUrl(path: string): string {
    return `${this.settings.publicUrl}${path}`;
  }

  /** The public `wss://` (or `ws://` for an http public URL) address of a session's Media Stream. */
  mediaStreamUrl(sessionId: string): string {
    return this.publicWsUrl(TWILIO_PATHS.media(sessionId));
  }

  /** The public `wss://` (or `ws://`) address of a Tolk path. */
  publicWsUrl(path: string): string {
    return this.publicHttpUrl(path).replace(/^http/, 'ws');
  }

  /**
   * The TwiML that connects a call to a session's bidirectional Media Stream:
   * `<Response><Connect><Stream url="wss://…/twilio/media/{sessionId}"><Parameter name="sessionId" …/></Stream></Connect></Response>`.
   * Twilio drops a query string from a Stream URL, so the session travels in the path, and again as
   * a custom parameter (`start.customParameters.sessionId`).
   */
  connectStreamTwiml(sessionId: string): string {
    return this.streamTwiml(TWILIO_PATHS.media(sessionId), { sessionId });
  }

  /**
   * `<Response><Connect><Stream url="wss://…{streamPath}">` with one `<Parameter>` per entry of
   * `parameters` (Twilio hands them over in `start.customParameters`).
   */
  streamTwiml(streamPath: string, parameters: Record<string, string>): string {
    const response = new twilio.twiml.VoiceResponse();
    const stream = response.connect().stream({ url: this.publicWsUrl(streamPath) });
    for (const [name, value] of Object.entries(parameters)) stream.parameter({ name, value });
    return response.toString();
  }

  /**
   * Places the call of a session (Twilio REST `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`):
   * from {@link TwilioSettings.phoneNumber} to `to`, running {@link connectStreamTwiml}, with
   * status callbacks for initiated, ringing, answered and completed to `/twilio/status/{sessionId}`.
   * @throws {twilio.RestException} when Twilio refuses (`status`, `code`, `message`, `moreInfo`), or a network error.
   */
  async placeCall(o: { sessionId: string; to: string }): Promise<PlacedCall> {
    return this.placeStreamCall({ to: o.to, twiml: this.connectStreamTwiml(o.sessionId), statusPath: TWILIO_PATHS.status(o.sessionId) });
  }

  /**
   * Places a call from {@link TwilioSettings.phoneNumber} to `to` that runs `twiml`, with signed
   * status callbacks (initiated, ringing, answered, completed; POST) to the public `statusPath`.
   * @throws {twilio.RestException} when Twilio refuses (`status`, `code`, `message`, `moreInfo`), or a network error.
   */
  async placeStreamCall(o: { to: string; twiml: string; statusPath: string }): Promise<PlacedCall> {
    const call = await this.client.calls.create({
      to: o.to,
      from: this.settings.phoneNumber,
      twiml: o.twiml,
      statusCallback: this.publicHttpUrl(o.statusPath),
      statusCallbackMethod: 'POST',
      statusCallbackEvent: [...STATUS_CALLBACK_EVENTS],
    });
    return { callSid: call.sid, status: call.status };
  }

  /**
   * Hangs up a call (`POST …/Calls/{CallSid}.json` with `Status=completed`): Twilio ends it, posts
   * the `completed` status callback and stops the Media Stream.
   * @throws {twilio.RestException} when Twilio refuses, or a network error.
   */
  async hangUp(callSid: string): Promise<void> {
    await this.client.calls(callSid).update({ status: 'completed' });
  }

  /**
   * Whether `signature` (the `X-Twilio-Signature` header) is Twilio's for this webhook: HMAC-SHA1,
   * keyed with the auth token, of the full public URL followed by the sorted form parameters
   * (`twilio.validateRequest`). A missing signature is not.
   * @param pathAndQuery - the request's path and query as received (`request.url`).
   * @param params - the form parameters of the POST.
   */
  verifySignature(signature: string | undefined, pathAndQuery: string, params: Record<string, unknown>): boolean {
    if (!signature) return false;
    return twilio.validateRequest(this.settings.authToken, signature, this.publicHttpUrl(pathAndQuery), params);
  }

  /**
   * Whether `signature` is Twilio's for the WebSocket upgrade of a Media Stream: Twilio signs the
   * stream URL it was given (`wss://…`, no parameters). The `https://` form of the same address is
   * accepted too (both are derived from TOLK_PUBLIC_URL and need the auth token; docs/calls.md "Twilio").
   * @param pathAndQuery - the upgrade request's path and query as received.
   */
  verifyStreamSignature(signature: string | undefined, pathAndQuery: string): boolean {
    if (!signature) return false;
    const httpUrl = this.publicHttpUrl(pathAndQuery);
    const token = this.settings.authToken;
    return twilio.validateRequest(token, signature, httpUrl.replace(/^http/, 'ws'), {}) || twilio.validateRequest(token, signature, httpUrl, {});
  }
}
