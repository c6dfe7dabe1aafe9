/**
 * The REST half of the conversations API (spec 003): languages, conversation create and lookup.
 * Every failure becomes an `ApiError` whose message can be shown as is.
 */

/**
 * A language the server knows: BCP-47 code and English name, e.g. `["en-US", "English"]`, and what
 * can be done in it (docs/conversations.md "Languages"; a server without these fields: all true).
 */
export interface Language {
  code: string;
  name: string;
  /** Speech in it can be recognized (it can be a source). */
  heard: boolean;
  /** A translation into it exists (it can be a target). */
  shown: boolean;
  /** A voice exists (its translation can be heard). */
  spoken: boolean;
}

/** A source → target pair the server serves; `speech` false: the target is text only (no voice). */
export interface LanguagePair {
  source: string;
  target: string;
  speech: boolean;
}

/** `GET /api/v1/languages`, parsed. */
export interface LanguageCatalog {
  languages: Language[];
  /** Every pair (from the server's `pairs`; without it, every language to every other, with speech). */
  pairs: LanguagePair[];
  defaultSource: string;
  defaultTarget: string;
  /** The server is locked down (docs/security.md "Lock-down") and this browser has not signed in. */
  signInRequired: boolean;
}

/** `POST /api/v1/session/create`, parsed. */
export interface CreatedConversation {
  conversationId: string;
  joinUrl: string;
  /** The server's `join_url_warning`: why a phone may not open `joinUrl` (a loopback address), or null. */
  joinUrlWarning: string | null;
}

/** `GET /api/v1/session/<id>`: the initiator's language pair. */
export interface ConversationInfo {
  initiatorLanguage: string;
  initiatorTranslateLanguage: string;
}

/**
 * A failed API call. `status` is the HTTP status, or 0 when the server could not be reached at all;
 * `message` is the server's `{"error": …}` text when it sent one.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True when no HTTP answer came back (server down, network lost). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

function fallbackMessage(status: number): string {
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status === 503) return 'The translation service is temporarily unavailable.';
  if (status >= 500) return 'The server had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

async function requestJson(path: string, init: RequestInit = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      ...init,
      headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the Tolk server.');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const serverMessage = isRecord(body) && typeof body.error === 'string' ? body.error : undefined;
    // Tolk always answers JSON; a 5xx without it comes from a proxy in front of a stopped server.
    if (response.status >= 500 && body === undefined) throw new ApiError(0, 'Cannot reach the Tolk server.');
    throw new ApiError(response.status, serverMessage ?? fallbackMessage(response.status));
  }
  if (body === undefined) throw new ApiError(response.status, 'The server sent an unreadable answer.');
  return body;
}

/** Narrows an unknown JSON value to an object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `GET /api/v1/languages`.
 * @throws {ApiError} status 503 when the engines are unavailable, 0 when the server is unreachable.
 */
export async function fetchLanguages(): Promise<LanguageCatalog> {
  let body: unknown;
  try {
    body = await requestJson('/api/v1/languages');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new ApiError(404, 'This server does not offer the translation API (/api/v1/languages). Is it an up-to-date Tolk server?');
    }
    throw error;
  }
  if (!isRecord(body) || !Array.isArray(body.supported_languages)) {
    throw new ApiError(200, 'The server sent an unexpected list of languages.');
  }
  const languages = parseLanguages(body.supported_languages, body.languages);
  if (languages.length === 0) throw new ApiError(503, 'No languages are available on this server yet.');
  const pairs = parsePairs(body.pairs, languages);
  const has = (code: unknown): code is string => typeof code === 'string' && languages.some((l) => l.code === code);
  const defaultSource = has(body.default_source) ? body.default_source : (languages[0]?.code ?? '');
  const defaultTarget = has(body.default_target)
    ? body.default_target
    : (languages.find((l) => l.code !== defaultSource)?.code ?? defaultSource);
  const access = isRecord(body.access) ? body.access : {};
  const signInRequired = access.key_required === true && access.signed_in !== true;
  return { languages, pairs, defaultSource, defaultTarget, signInRequired };
}

/** spec 003's `supported_languages`, with the capabilities of Tolk's `languages` beside them when sent. */
function parseLanguages(supported: unknown[], detailed: unknown): Language[] {
  const details = new Map<string, Record<string, unknown>>();
  if (Array.isArray(detailed)) for (const d of detailed) if (isRecord(d) && typeof d.code === 'string') details.set(d.code, d);
  const languages: Language[] = [];
  for (const entry of supported) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') continue;
    const d = details.get(entry[0]);
    const flag = (key: string): boolean => (d && typeof d[key] === 'boolean' ? d[key] : true);
    languages.push({ code: entry[0], name: entry[1], heard: flag('heard'), shown: flag('shown'), spoken: flag('spoken') });
  }
  return languages;
}

/** Tolk's `pairs`, or (an older server) every language to every other with speech. */
function parsePairs(raw: unknown, languages: Language[]): LanguagePair[] {
  const known = new Set(languages.map((l) => l.code));
  if (Array.isArray(raw)) {
    return raw.filter((p): p is LanguagePair => isRecord(p) && typeof p.source === 'string' && typeof p.target === 'string' && known.has(p.source) && known.has(p.target))
      .map((p) => ({ source: p.source, target: p.target, speech: p.speech !== false }));
  }
  return languages.flatMap((s) => languages.map((t) => ({ source: s.code, target: t.code, speech: true })));
}

/**
 * `POST /api/v1/session/create`: starts a conversation for the initiator's language pair.
 * @throws {ApiError} 429 when creating too fast, 503 when unavailable, 0 when unreachable.
 */
export async function createConversation(language: string, translateLanguage: string): Promise<CreatedConversation> {
  const body = await requestJson('/api/v1/session/create', {
    method: 'POST',
    body: JSON.stringify({ language, translate_language: translateLanguage }),
  });
  if (!isRecord(body) || typeof body.conversation_id !== 'string' || body.conversation_id === '') {
    throw new ApiError(200, 'The server did not return a conversation.');
  }
  const joinUrl =
    typeof body.join_url === 'string' && body.join_url !== ''
      ? body.join_url
      : `${location.origin}/join/${encodeURIComponent(body.conversation_id)}`;
  const joinUrlWarning = typeof body.join_url_warning === 'string' && body.join_url_warning !== '' ? body.join_url_warning : null;
  return { conversationId: body.conversation_id, joinUrl, joinUrlWarning };
}

/**
 * `GET /api/v1/session/<id>`: the initiator's languages, to prefill the joiner's choice.
 * @throws {ApiError} 404 when the conversation does not exist or expired.
 */
export async function fetchConversation(conversationId: string): Promise<ConversationInfo> {
  const body = await requestJson(`/api/v1/session/${encodeURIComponent(conversationId)}`);
  if (!isRecord(body) || typeof body.user_a_lang !== 'string') {
    throw new ApiError(200, 'The server sent an unexpected conversation.');
  }
  return {
    initiatorLanguage: body.user_a_lang,
    initiatorTranslateLanguage: typeof body.user_a_translate === 'string' ? body.user_a_translate : '',
  };
}

/**
 * `POST /api/v1/sign-in`: on a locked-down server, exchanges an API key for the sign-in cookie
 * (HttpOnly: the page never reads it back).
 * @throws {ApiError} 401 when the key is not valid, 0 when the server is unreachable.
 */
export async function signIn(key: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/api/v1/sign-in', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the Tolk server.');
  }
  if (response.ok) return;
  const body: unknown = await response.json().catch(() => undefined);
  throw new ApiError(response.status, isRecord(body) && typeof body.error === 'string' ? body.error : fallbackMessage(response.status));
}
