/**
 * Outbound phone calls into a session (spec 000 `POST /api/sessions/:id/phone/start`), whatever
 * places them: Vapi today (`vapi.ts`); another telephony provider implements the same interface and
 * is chosen where the dialer is built (`phoneDialerFor` in `src/api/platform/phone.ts`).
 */

/** What to dial. */
export interface DialRequest {
  /** The callee, E.164 (`+14155550199`). */
  phoneNumber: string;
  /** The provider's assistant or flow to use instead of the configured default, when given. */
  assistantId?: string | undefined;
  /** The session the call joins: its id and language pair (the callee's speech is translated within it). */
  session: { id: string; sourceLang: string; targetLang: string };
}

/** A call the provider accepted. */
export interface DialedCall {
  /** The provider's call id; webhooks name the call by it. */
  callId: string;
  /** Provider name stored with the call (`vapi`). */
  provider: string;
  /** The provider's status at creation (Vapi: `queued`). */
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
  /** Provider name (`vapi`). */
  readonly provider: string;
  /**
   * Asks the provider to call `phoneNumber` and bring the callee into the session.
   * @throws {DialError} when the provider refuses or cannot be reached.
   */
  dial(request: DialRequest): Promise<DialedCall>;
}
