import { refusedUrlReason, type EgressPolicy } from '../../common/egress-policy.js';
import { isLanguageTag } from '../../common/language-tags.js';
import { CALL_MODES, type CallMode } from '../../domain/calls/model.js';
import type { NewCallSession } from '../../domain/calls/sessions.js';
import { invalidField } from './errors.js';

/** Largest `metadata`: 50 keys, 500 characters per value (spec 004 "metadata"), keys up to 40 characters (Stripe's limit). */
export const METADATA_LIMITS = { maxKeys: 50, maxValueChars: 500, maxKeyChars: 40 } as const;
/** Largest serialized `ai_agent` / `transcription` object, in characters. */
const MAX_OBJECT_CHARS = 32_000;
/** Top-level fields of `POST /v1/sessions` (spec 004, plus the newer docs' `routing`). */
const KNOWN_FIELDS = new Set(['mode', 'source_language', 'target_language', 'provider', 'routing', 'ai_agent', 'recording', 'transcription', 'webhook_url', 'metadata']);
const E164 = /^\+[1-9]\d{1,14}$/;

/** A validated `POST /v1/sessions` body: the session fields the caller chooses (spec 004 "Create session"). */
export type CreateSessionRequest = Pick<NewCallSession,
  'mode' | 'sourceLanguage' | 'targetLanguage' | 'provider' | 'recording' | 'transcription' | 'aiAgent' | 'metadata' | 'webhookUrl'>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) throw invalidField(field, `The '${field}' field is required.`, 'missing_required_field');
  if (typeof v !== 'string' || v.trim() === '') throw invalidField(field, `The '${field}' field must be a non-empty string.`);
  return v;
}

function optionalObject(body: Record<string, unknown>, field: string): Record<string, unknown> | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw invalidField(field, `The '${field}' field must be an object.`);
  if (JSON.stringify(v).length > MAX_OBJECT_CHARS) throw invalidField(field, `The '${field}' object is larger than ${MAX_OBJECT_CHARS} characters.`);
  return v;
}

/**
 * Refuses a webhook URL whose host is this machine, a private, link-local or unique-local address
 * or a metadata service, unless `TOLK_WEBHOOK_ALLOW_HOSTS` allows it (docs/security.md "Outbound
 * requests"). Names are checked again on their resolved addresses at every delivery.
 * @throws {CallsError} 400 `webhook_url_forbidden` naming `param`.
 */
export function assertWebhookDestination(policy: EgressPolicy, url: string | null, param: string): void {
  if (url === null) return;
  const reason = refusedUrlReason(policy, new URL(url));
  if (reason) {
    throw invalidField(param, `${param} is refused: ${reason}. Webhooks go to public addresses only unless the operator allows the host with TOLK_WEBHOOK_ALLOW_HOSTS.`, 'webhook_url_forbidden');
  }
}

/**
 * Parses a `POST /v1/sessions` body (spec 004 "Request Body"): every field's type and value, with
 * the documented defaults (`recording` off, `channels` `dual`).
 * @throws {CallsError} 400 `validation_error` whose `param` names the field (for metadata, the key).
 */
export function parseCreateSession(raw: unknown): CreateSessionRequest {
  if (!isObject(raw)) throw invalidField('body', 'The request body must be a JSON object.', 'invalid_request');
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) throw invalidField(key, `Unknown parameter '${key}'.`, 'parameter_unknown');
  }
  const mode = requiredString(raw, 'mode');
  if (!(CALL_MODES as readonly string[]).includes(mode)) throw invalidField('mode', `Invalid mode '${mode}': use one of ${CALL_MODES.join(', ')}.`, 'invalid_mode');
  const sourceLanguage = language(raw, 'source_language');
  const targetLanguage = language(raw, 'target_language');
  const aiAgent = parseAiAgent(raw);
  if (mode === 'ai_agent' && !aiAgent) throw invalidField('ai_agent', "The 'ai_agent' object is required when mode is ai_agent.", 'missing_required_field');
  return {
    mode: mode as CallMode, sourceLanguage, targetLanguage, provider: parseProvider(raw), recording: parseRecording(raw),
    transcription: parseTranscription(raw), aiAgent, metadata: parseMetadata(raw.metadata), webhookUrl: parseWebhookUrl(raw.webhook_url),
  };
}

/**
 * `transcription` (spec 004, kept as sent); its `simultaneous` (docs/calls.md "Simultaneous mode"),
 * when present, must be a boolean.
 */
function parseTranscription(raw: Record<string, unknown>): Record<string, unknown> | null {
  const t = optionalObject(raw, 'transcription');
  if (t?.simultaneous !== undefined && typeof t.simultaneous !== 'boolean') {
    throw invalidField('transcription.simultaneous', "Invalid 'transcription.simultaneous': use true or false.");
  }
  return t;
}

function language(raw: Record<string, unknown>, field: string): string {
  const v = requiredString(raw, field);
  if (!isLanguageTag(v)) throw invalidField(field, `Invalid ${field} '${v}': use a language code such as de, en or pt-BR.`, 'invalid_language_code');
  return v;
}

/** `provider` (spec 004), or the newer docs' `routing.phone_number` as a Twilio provider. */
function parseProvider(raw: Record<string, unknown>): CreateSessionRequest['provider'] {
  const p = optionalObject(raw, 'provider');
  const routing = optionalObject(raw, 'routing');
  if (!p) {
    const phone = routing?.phone_number;
    if (phone === undefined || phone === null) return null;
    if (typeof phone !== 'string' || !E164.test(phone)) throw invalidField('routing.phone_number', 'routing.phone_number must be an E.164 number such as +14155551234.', 'invalid_provider');
    return { type: 'twilio', phoneNumber: phone, callSid: null };
  }
  if (p.type !== 'twilio') throw invalidField('provider.type', `Unsupported provider.type '${String(p.type)}': this server drives twilio.`, 'invalid_provider');
  const phone = p.phone_number ?? null;
  if (phone !== null && (typeof phone !== 'string' || !E164.test(phone))) {
    throw invalidField('provider.phone_number', 'provider.phone_number must be an E.164 number such as +14155551234.', 'invalid_provider');
  }
  const callSid = p.call_sid ?? null;
  if (callSid !== null && (typeof callSid !== 'string' || !/^CA[0-9a-f]{32}$/i.test(callSid))) {
    throw invalidField('provider.call_sid', 'provider.call_sid must be a Twilio CallSid (CA followed by 32 hex digits).', 'invalid_provider');
  }
  for (const key of Object.keys(p)) {
    if (!['type', 'phone_number', 'call_sid'].includes(key)) throw invalidField(`provider.${key}`, `Unknown parameter 'provider.${key}'.`, 'parameter_unknown');
  }
  return { type: 'twilio', phoneNumber: phone, callSid };
}

function parseRecording(raw: Record<string, unknown>): CreateSessionRequest['recording'] {
  const r = optionalObject(raw, 'recording');
  if (!r) return { enabled: false, channels: 'dual' };
  if (r.enabled !== undefined && typeof r.enabled !== 'boolean') throw invalidField('recording.enabled', 'recording.enabled must be true or false.');
  const channels = r.channels ?? 'dual';
  if (channels !== 'dual' && channels !== 'mono') throw invalidField('recording.channels', `recording.channels must be "dual" or "mono", not ${JSON.stringify(channels)}.`);
  return { enabled: r.enabled === true, channels };
}

function parseAiAgent(raw: Record<string, unknown>): Record<string, unknown> | null {
  const a = optionalObject(raw, 'ai_agent');
  if (!a) return null;
  for (const field of ['system_prompt', 'voice', 'greeting', 'model']) {
    if (a[field] !== undefined && typeof a[field] !== 'string') throw invalidField(`ai_agent.${field}`, `ai_agent.${field} must be a string.`);
  }
  const t = a.temperature;
  if (t !== undefined && (typeof t !== 'number' || t < 0 || t > 2)) throw invalidField('ai_agent.temperature', 'ai_agent.temperature must be a number from 0 to 2.');
  return a;
}

/**
 * `metadata` (spec 004): at most {@link METADATA_LIMITS}.maxKeys keys, string values of at most
 * 500 characters; `null` clears it.
 * @throws {CallsError} 400 naming the offending key as `param` (`metadata.<key>`).
 */
export function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw invalidField('metadata', 'metadata must be an object of string values.');
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.maxKeys) {
    throw invalidField('metadata', `metadata has ${entries.length} keys; at most ${METADATA_LIMITS.maxKeys} are allowed.`, 'metadata_too_many_keys');
  }
  for (const [key, v] of entries) {
    if (key.length === 0 || [...key].length > METADATA_LIMITS.maxKeyChars) {
      throw invalidField(`metadata.${key}`, `metadata key '${key}' must be 1 to ${METADATA_LIMITS.maxKeyChars} characters.`, 'metadata_key_invalid');
    }
    if (typeof v !== 'string') throw invalidField(`metadata.${key}`, `metadata value of '${key}' must be a string.`, 'metadata_value_invalid');
    const chars = [...v].length; // code points: an emoji is one character, not two UTF-16 units
    if (chars > METADATA_LIMITS.maxValueChars) {
      throw invalidField(`metadata.${key}`, `metadata value of '${key}' has ${chars} characters; at most ${METADATA_LIMITS.maxValueChars} are allowed.`, 'metadata_value_too_long');
    }
  }
  return value as Record<string, string>;
}

function parseWebhookUrl(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 2048) throw invalidField('webhook_url', 'webhook_url must be an http(s) URL of at most 2048 characters.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField('webhook_url', `webhook_url '${value}' is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidField('webhook_url', 'webhook_url must use https (or http).');
  return url.toString();
}
