import type { VapiSettings } from '../config.js';
import { DialError, type DialedCall, type DialRequest, type PhoneDialer } from './phone-dialer.js';

/** How long Vapi may take to accept a call, in ms. */
const VAPI_TIMEOUT_MS = 10_000;

/** The settings a Vapi dialer needs, all present. */
type VapiDialerSettings = Required<Pick<VapiSettings, 'apiKey' | 'assistantId' | 'phoneNumberId'>> & Pick<VapiSettings, 'apiBase'>;

/** The Vapi settings a dialer still lacks (names of the environment variables), empty when complete. */
export function missingVapiSettings(s: VapiSettings): string[] {
  const missing: string[] = [];
  if (!s.apiKey) missing.push('VAPI_API_KEY');
  if (!s.assistantId) missing.push('VAPI_ASSISTANT_ID');
  if (!s.phoneNumberId) missing.push('VAPI_PHONE_NUMBER_ID');
  return missing;
}

/**
 * {@link PhoneDialer} through Vapi (docs/phone.md): `POST {VAPI_API_BASE}/call` with
 * `Authorization: Bearer VAPI_API_KEY` and the documented body `{assistantId, phoneNumberId,
 * customer: {number}, assistantOverrides: {variableValues}}` — the variables give the assistant the
 * session and its language pair (`{{tolkSessionId}}`, `{{sourceLanguage}}`, `{{targetLanguage}}`).
 * Vapi answers 201 with the Call object (`id`, `status: "queued"`).
 */
export class VapiDialer implements PhoneDialer {
  readonly provider = 'vapi';

  constructor(private readonly settings: VapiDialerSettings, private readonly fetchImpl: typeof fetch = fetch) {}

  /** A dialer for complete settings, or undefined (see {@link missingVapiSettings}). */
  static from(settings: VapiSettings): VapiDialer | undefined {
    const { apiKey, assistantId, phoneNumberId, apiBase } = settings;
    if (!apiKey || !assistantId || !phoneNumberId) return undefined;
    return new VapiDialer({ apiKey, assistantId, phoneNumberId, apiBase });
  }

  async dial(request: DialRequest): Promise<DialedCall> {
    const assistantId = request.assistantId ?? this.settings.assistantId;
    const body = {
      assistantId,
      phoneNumberId: this.settings.phoneNumberId,
      customer: { number: request.phoneNumber },
      assistantOverrides: {
        variableValues: { tolkSessionId: request.session.id, sourceLanguage: request.session.sourceLang, targetLanguage: request.session.targetLang },
      },
    };
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.settings.apiBase}/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.settings.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(VAPI_TIMEOUT_MS),
      });
    } catch (err) {
      throw new DialError('unavailable', `Vapi could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const kind = res.status >= 400 && res.status < 500 ? 'refused' : 'unavailable';
      throw new DialError(kind, `Vapi answered ${res.status}: ${vapiErrorMessage(text)}`);
    }
    const call = parseJson(text) as { id?: unknown; status?: unknown } | undefined;
    if (typeof call?.id !== 'string' || call.id === '') throw new DialError('unavailable', 'Vapi answered without a call id');
    return { callId: call.id, provider: this.provider, providerStatus: typeof call.status === 'string' ? call.status : 'queued', assistantId };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Vapi's error text: `message` (a string or a list of them, NestJS style), else the body's start. */
function vapiErrorMessage(text: string): string {
  const body = parseJson(text) as { message?: unknown } | undefined;
  const m = body?.message;
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) return m.map(String).join('; ');
  return text.slice(0, 200) || 'no details';
}
