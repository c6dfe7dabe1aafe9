/**
 * Outbound phone calls into a session (spec 000 `POST /api/sessions/:id/phone/start`), whatever
 * places them: Vapi (`vapi.ts`) or Tolk's own Twilio telephony (`twilio-dialer.ts`); the dialer is
 * chosen where it is built (`phoneDialerFor` in `src/api/platform/phone.ts`, docs/phone.md).
 */

/** What to dial. */
export interface DialRequest {
  /** The callee, E.164 (`+14155550199`). */
  phoneNumber: string;
  /** The provider's assistant or flow to use instead of the configured default, when given. */
  assistantId?: string | undefined;
  /** The session the call joins: its id and language pair (the callee's speech is translated within it). */
  session: { id: string; sourceLang: string; targetLang: string };
  /**
   * Tolk's own handle of the call, made before dialing, for a provider whose call comes back into
   * Tolk (Twilio: `ref` names the call in its status callback URL, `ref` and the secret
   * `mediaToken` in its Media Stream URL). Providers that carry the audio themselves (Vapi) ignore it.
   */
  tolkCall?: { ref: string; mediaToken: string } | undefined;
}

/** A call the provider accepted. */
export interface DialedCall {
  /** The provider's call id; webhooks name the call by it. */
  callId: string;
  /** Provider name stored with the call (`vapi`, `twilio`). */
  provider: string;
  /** The provider's status at creation (Vapi and Twilio: `queued`). */
  providerStatus: string;
  /** The assistant that takes the call, when the provider has one. */
  assistantId?: string | undefined;
}

/** Why a dial failed: `refused` (the provider rejected the request: 4xx) or `unavailable` (network, timeout, 5xx). */
export class DialError extends Error {
  constructor(readonly kind: 'refused' | 'unavailable', message: string) {
    super(message);
    this.name = 'DialError';
  }
}

/** Places outbound calls. */
export interface PhoneDialer {
  /** Provider name (`vapi`, `twilio`). */
  readonly provider: string;
  /**
   * Asks the provider to call `phoneNumber` and bring the callee into the session.
   * @throws {DialError} when the provider refuses or cannot be reached.
   */
  dial(request: DialRequest): Promise<DialedCall>;
}
