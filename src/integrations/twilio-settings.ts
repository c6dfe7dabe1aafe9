import { AppError } from '../errors.js';

/**
 * Tolk's Twilio settings, read from the environment (docs/calls.md "Twilio"). Kept apart from
 * `twilio.ts` so that reading the configuration does not load the Twilio client.
 */

/** Tolk's Twilio account, number and public address (environment variables in docs/calls.md "Twilio"). */
export interface TwilioSettings {
  /** `TWILIO_ACCOUNT_SID` (`AC…`). */
  accountSid: string;
  /** `TWILIO_AUTH_TOKEN`: authenticates REST calls and is the key of every `X-Twilio-Signature`. */
  authToken: string;
  /** `TWILIO_PHONE_NUMBER`, E.164: the caller id of outbound calls and the number inbound calls reach. */
  phoneNumber: string;
  /**
   * `TOLK_PUBLIC_URL` without a trailing slash (`https://tolk.example.com`): where Twilio reaches
   * Tolk. Callback URLs are built on it and signatures are checked against it, so it must be the
   * exact scheme, host and port Twilio calls (behind a proxy: the proxy's address).
   */
  publicUrl: string;
}

/** {@link twilioSettingsFromEnv}'s answer: the settings, or what is missing and how to fix it. */
export type TwilioSettingsResult = { ok: true; settings: TwilioSettings } | { ok: false; problem: string };

/**
 * Thrown when a call session needs Twilio and Twilio is not configured: the calls API answers 422
 * with this message (spec 004 `provider.type: "twilio"`).
 */
export class TwilioNotConfiguredError extends AppError {
  constructor(problem: string) {
    super('UNPROCESSABLE', `Twilio is not configured on this server: ${problem}. Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER and TOLK_PUBLIC_URL (the https address Twilio reaches Tolk at) and restart Tolk; see docs/calls.md "Twilio"`);
  }
}

/**
 * Reads the Twilio settings from the environment.
 * @returns the settings, or `problem`: every variable missing or malformed, named.
 */
export function twilioSettingsFromEnv(env: NodeJS.ProcessEnv): TwilioSettingsResult {
  const problems: string[] = [];
  const accountSid = env.TWILIO_ACCOUNT_SID?.trim() ?? '';
  const authToken = env.TWILIO_AUTH_TOKEN?.trim() ?? '';
  const phoneNumber = env.TWILIO_PHONE_NUMBER?.trim() ?? '';
  const publicUrl = (env.TOLK_PUBLIC_URL?.trim() ?? '').replace(/\/+$/, '');
  if (!accountSid) problems.push('TWILIO_ACCOUNT_SID is not set');
  else if (!accountSid.startsWith('AC')) problems.push('TWILIO_ACCOUNT_SID must start with AC');
  if (!authToken) problems.push('TWILIO_AUTH_TOKEN is not set');
  if (!phoneNumber) problems.push('TWILIO_PHONE_NUMBER is not set');
  else if (!/^\+[1-9]\d{1,14}$/.test(phoneNumber)) problems.push('TWILIO_PHONE_NUMBER must be an E.164 number such as +14155551234');
  if (!publicUrl) problems.push('TOLK_PUBLIC_URL is not set');
  else if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(publicUrl)) problems.push('TOLK_PUBLIC_URL must be an http(s) URL without query, such as https://tolk.example.com');
  if (problems.length > 0) return { ok: false, problem: problems.join('; ') };
  return { ok: true, settings: { accountSid, authToken, phoneNumber, publicUrl } };
}
