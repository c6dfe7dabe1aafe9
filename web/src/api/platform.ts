/**
 * The console's client of the platform REST API (spec 000; docs/platform.md, docs/glossary.md):
 * every call carries `Authorization: Bearer <key>` and every failure becomes a `PlatformError` with
 * the server's `{"error":{"code","message"}}`. The key is passed in by the caller (the console keeps
 * it in sessionStorage) and never put in a URL.
 */
import { isRecord } from './http';

/** A failed platform call: HTTP `status` (0 when no answer came back), the spec's `code` and `message`. */
export class PlatformError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From `Retry-After` on a 429, in seconds. */
    readonly retryAfterS: number | undefined = undefined,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

/** A key as `GET /api/api-keys` lists it: never the secret, only its masked prefix and hint. */
export interface ListedKey {
  id: string;
  name: string;
  /** `ip_live_••••` or `ip_test_••••`. */
  keyPrefix: string;
  /** The key's first 12 characters and "…", e.g. `ip_live_Ab3x…`. */
  keyHint: string;
  role: 'owner' | 'admin' | 'member';
  createdAt: string;
  lastUsedAt: string | null;
}

/** `POST /api/api-keys` and `…/rotate`: the only answers that carry a key's secret. */
export interface IssuedKey {
  id: string;
  name: string;
  key: string;
}

/** A glossary term (docs/glossary.md). */
export interface GlossaryTerm {
  id: string;
  sourceTerm: string;
  targetTerm: string;
  languagePair: string;
}

/** `POST /api/glossary/import`: counts and the per-line errors (`row` is the 1-based line of the file). */
export interface ImportReport {
  imported: number;
  skipped: number;
  errors: Array<{ row: number; message: string }>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * One platform call. `body` is sent as JSON, or as is when it is FormData (the import).
 * @throws {PlatformError} for any non-2xx answer, status 0 when the server cannot be reached.
 */
export async function platformRequest(key: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${key}` };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch {
    throw new PlatformError(0, 'UNREACHABLE', 'Cannot reach the Tolk server.');
  }
  const parsed: unknown = await response.json().catch(() => undefined);
  if (response.ok && parsed !== undefined) return parsed;
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (!error && response.status >= 500) throw new PlatformError(0, 'UNREACHABLE', 'Cannot reach the Tolk server.');
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new PlatformError(
    response.status,
    typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
    typeof error?.message === 'string' ? error.message : `The request failed (HTTP ${response.status}).`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** `GET /api/api-keys`. @throws {PlatformError} */
export async function listKeys(key: string): Promise<ListedKey[]> {
  const body = await platformRequest(key, 'GET', '/api/api-keys');
  const keys = isRecord(body) && Array.isArray(body.keys) ? body.keys : [];
  return keys.filter(isRecord).map((k) => ({
    id: str(k.id), name: str(k.name), keyPrefix: str(k.key_prefix), keyHint: str(k.key_hint),
    role: k.role === 'owner' || k.role === 'admin' ? k.role : 'member',
    createdAt: str(k.created_at), lastUsedAt: typeof k.last_used_at === 'string' ? k.last_used_at : null,
  }));
}

function issued(body: unknown): IssuedKey {
  if (!isRecord(body) || typeof body.key !== 'string') throw new PlatformError(200, 'UNEXPECTED', 'The server did not return the key.');
  return { id: str(body.id), name: str(body.name), key: body.key };
}

/** `POST /api/api-keys`: the new key's secret, shown once. @throws {PlatformError} 403 beyond the caller's role. */
export async function createKey(key: string, input: { name: string; role: ListedKey['role']; test: boolean }): Promise<IssuedKey> {
  return issued(await platformRequest(key, 'POST', '/api/api-keys', input));
}

/** `POST /api/api-keys/:id/rotate`: the same key with a new secret. @throws {PlatformError} 403 per the role rules. */
export async function rotateKey(key: string, id: string): Promise<IssuedKey> {
  return issued(await platformRequest(key, 'POST', `/api/api-keys/${encodeURIComponent(id)}/rotate`));
}

/** `DELETE /api/api-keys/:id`. @throws {PlatformError} 403 per the role rules, 409 for the last owner key. */
export async function deleteKey(key: string, id: string): Promise<void> {
  await platformRequest(key, 'DELETE', `/api/api-keys/${encodeURIComponent(id)}`);
}

function term(t: Record<string, unknown>): GlossaryTerm {
  return { id: str(t.id), sourceTerm: str(t.source_term), targetTerm: str(t.target_term), languagePair: str(t.language_pair) };
}

/** `GET /api/glossary`. @throws {PlatformError} */
export async function listTerms(key: string): Promise<GlossaryTerm[]> {
  const body = await platformRequest(key, 'GET', '/api/glossary');
  return (isRecord(body) && Array.isArray(body.terms) ? body.terms : []).filter(isRecord).map(term);
}

/** `GET /api/glossary/language-pairs`: the pairs a term may have. @throws {PlatformError} */
export async function listLanguagePairs(key: string): Promise<string[]> {
  const body = await platformRequest(key, 'GET', '/api/glossary/language-pairs');
  return isRecord(body) && Array.isArray(body.language_pairs) ? body.language_pairs.filter((p): p is string => typeof p === 'string') : [];
}

/** `POST /api/glossary`. @throws {PlatformError} 400 (bad term or pair), 409 (duplicate). */
export async function createTerm(key: string, input: { sourceTerm: string; targetTerm: string; languagePair: string }): Promise<GlossaryTerm> {
  const body = await platformRequest(key, 'POST', '/api/glossary', { source_term: input.sourceTerm, target_term: input.targetTerm, language_pair: input.languagePair });
  return term(isRecord(body) ? body : {});
}

/** `PATCH /api/glossary/:id`. @throws {PlatformError} 400, 404, 409. */
export async function updateTerm(key: string, id: string, input: { sourceTerm: string; targetTerm: string }): Promise<GlossaryTerm> {
  const body = await platformRequest(key, 'PATCH', `/api/glossary/${encodeURIComponent(id)}`, { source_term: input.sourceTerm, target_term: input.targetTerm });
  return term(isRecord(body) ? body : {});
}

/** `DELETE /api/glossary/:id`. @throws {PlatformError} 404. */
export async function deleteTerm(key: string, id: string): Promise<void> {
  await platformRequest(key, 'DELETE', `/api/glossary/${encodeURIComponent(id)}`);
}

/** `POST /api/glossary/import` with `file` as the form's `file` part. @throws {PlatformError} 400, 403 (member). */
export async function importTerms(key: string, file: File): Promise<ImportReport> {
  const form = new FormData();
  form.append('file', file, file.name);
  const body = await platformRequest(key, 'POST', '/api/glossary/import', form);
  if (!isRecord(body)) throw new PlatformError(200, 'UNEXPECTED', 'The server sent an unreadable import report.');
  const errors = (Array.isArray(body.errors) ? body.errors : []).filter(isRecord)
    .map((e) => ({ row: typeof e.row === 'number' ? e.row : 0, message: str(e.message) }));
  return { imported: Number(body.imported) || 0, skipped: Number(body.skipped) || 0, errors };
}

// ---- Sessions (console Sessions pages; docs/sessions.md, docs/intelligence.md) ----

/** A session as the console lists it (`GET /api/sessions`, with `participants` from `GET /api/sessions/active` while live). */
export interface ListedSession {
  id: string;
  /** A translation session (spec 000, its LiveKit room included) or a call session (spec 004, web/src/api/calls.ts). */
  kind: 'session' | 'call';
  status: 'created' | 'active' | 'completed';
  sourceLang: string;
  targetLang: string;
  startedAt: string;
  endedAt: string | null;
  durationS: number;
  /** Participants in the session now (active sessions); undefined for the others. */
  participants: number | undefined;
}

/** A participant of a session (`GET /api/sessions/:id`). */
export interface SessionParticipant {
  userId: string;
  role: ListedKey['role'];
  speakerName: string;
  joinedAt: string | null;
  revokedAt: string | null;
}

/** One session with every participant (`GET /api/sessions/:id`). */
export interface SessionDetail extends Omit<ListedSession, 'participants'> {
  participants: SessionParticipant[];
}

/** A final transcript with its translation and latencies in ms (`GET /api/sessions/:id/transcript`). */
export interface TranscriptLine {
  id: string;
  speakerName: string;
  text: string;
  translation: string | null;
  startedAt: string;
  translationLatencyMs: number | null;
  finalLatencyMs: number | null;
}

/** `GET /api/sessions/:id/intelligence` (docs/intelligence.md). */
export interface SessionIntelligence {
  overallSentiment: string;
  sentimentScore: number;
  extractedTopics: string[];
  actionItems: string[];
  urgencyLevel: string;
  transcriptCount: number;
  averageLatencyMs: number;
}

/** `POST /api/sessions`: what joining the new session's room needs (the tokens stay in memory). */
export interface CreatedSession {
  sessionId: string;
  liveKitUrl: string;
  roomToken: string;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value) || 0);
const numOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const sessionStatus = (value: unknown): ListedSession['status'] => (value === 'active' || value === 'completed' ? value : 'created');
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function sessionOf(s: Record<string, unknown>): Omit<ListedSession, 'participants'> {
  return {
    id: str(s.id), kind: 'session', status: sessionStatus(s.status), sourceLang: str(s.source_lang), targetLang: str(s.target_lang),
    startedAt: str(s.started_at), endedAt: strOrNull(s.ended_at), durationS: num(s.duration_seconds),
  };
}

/** The organization's newest 100 sessions, live ones with how many participants they have. @throws {PlatformError} */
export async function listSessions(key: string): Promise<ListedSession[]> {
  const [page, active] = await Promise.all([platformRequest(key, 'GET', '/api/sessions?limit=100'), platformRequest(key, 'GET', '/api/sessions/active')]);
  const people = new Map<string, number>();
  for (const a of (isRecord(active) && Array.isArray(active.sessions) ? active.sessions : []).filter(isRecord)) {
    people.set(str(a.id), Array.isArray(a.participants) ? a.participants.length : 0);
  }
  return (isRecord(page) && Array.isArray(page.sessions) ? page.sessions : []).filter(isRecord)
    .map((s) => ({ ...sessionOf(s), participants: people.get(str(s.id)) }));
}

/** `GET /api/sessions/:id`. @throws {PlatformError} 404 for an unknown session or another organization's. */
export async function getSession(key: string, id: string): Promise<SessionDetail> {
  const body = await platformRequest(key, 'GET', `/api/sessions/${encodeURIComponent(id)}`);
  const s = isRecord(body) ? body : {};
  const participants = (Array.isArray(s.participants) ? s.participants : []).filter(isRecord).map((p): SessionParticipant => ({
    userId: str(p.user_id), role: p.role === 'owner' || p.role === 'admin' ? p.role : 'member',
    speakerName: str(p.speaker_name), joinedAt: strOrNull(p.joined_at), revokedAt: strOrNull(p.revoked_at),
  }));
  return { ...sessionOf(s), participants };
}

/** `GET /api/sessions/:id/transcript`. @throws {PlatformError} 404. */
export async function getTranscript(key: string, id: string): Promise<TranscriptLine[]> {
  const body = await platformRequest(key, 'GET', `/api/sessions/${encodeURIComponent(id)}/transcript`);
  return (isRecord(body) && Array.isArray(body.utterances) ? body.utterances : []).filter(isRecord).map((u) => ({
    id: str(u.id), speakerName: str(u.speaker_name), text: str(u.text), translation: strOrNull(u.translation), startedAt: str(u.started_at),
    translationLatencyMs: numOrNull(u.translation_latency_ms), finalLatencyMs: numOrNull(u.final_latency_ms),
  }));
}

/** `GET /api/sessions/:id/intelligence`. @throws {PlatformError} 409 while the session is not completed, 404. */
export async function getIntelligence(key: string, id: string): Promise<SessionIntelligence> {
  const body = await platformRequest(key, 'GET', `/api/sessions/${encodeURIComponent(id)}/intelligence`);
  const i = isRecord(body) ? body : {};
  return {
    overallSentiment: str(i.overallSentiment), sentimentScore: num(i.sentimentScore), extractedTopics: strings(i.extractedTopics),
    actionItems: strings(i.actionItems), urgencyLevel: str(i.urgencyLevel), transcriptCount: num(i.transcriptCount), averageLatencyMs: num(i.averageLatencyMs),
  };
}

/** `POST /api/sessions/:id/revoke/:participantId`. @throws {PlatformError} 403 (member), 404, 409 (completed). */
export async function revokeParticipant(key: string, sessionId: string, participantId: string): Promise<void> {
  await platformRequest(key, 'POST', `/api/sessions/${encodeURIComponent(sessionId)}/revoke/${encodeURIComponent(participantId)}`);
}

/** `POST /api/sessions/:id/escalate`: the queue position. @throws {PlatformError} 404, 409 (completed). */
export async function escalateSession(key: string, sessionId: string, reason: string): Promise<number> {
  const body = await platformRequest(key, 'POST', `/api/sessions/${encodeURIComponent(sessionId)}/escalate`, reason ? { reason } : {});
  return isRecord(body) ? num(body.queuePosition) : 0;
}

/** `POST /api/sessions`. @throws {PlatformError} 400 (languages), 429 (capacity). */
export async function createSession(key: string, input: { sourceLang: string; targetLang: string }): Promise<CreatedSession> {
  const body = await platformRequest(key, 'POST', '/api/sessions', { source_lang: input.sourceLang, target_lang: input.targetLang, speaker_name: 'Console' });
  const s = isRecord(body) ? body : {};
  return { sessionId: str(s.sessionId), liveKitUrl: str(s.liveKitUrl), roomToken: str(s.roomToken) };
}
