/**
 * The console's client of the calls API (spec 004, docs/calls.md) for the Sessions pages: list
 * call sessions, read one with its transcript and recordings, play a recording, end a call. Same
 * rules as web/src/api/platform.ts: the key only in the `Authorization` header, every failure a
 * `PlatformError` (the calls API's `{"error":{"code","message",…}}` has the same two fields).
 */
import { isRecord } from './http';
import { PlatformError, platformRequest, type ListedSession } from './platform';

/** A call session (`GET /v1/sessions/{id}`) as the session page shows it. */
export interface CallDetail {
  id: string;
  status: ListedSession['status'];
  mode: string;
  sourceLang: string;
  targetLang: string;
  startedAt: string | null;
  endedAt: string | null;
  durationS: number;
  endReason: string | null;
}

/** One final segment of a call's transcript (`GET /v1/sessions/{id}/transcript`); `startS` from the call's start. */
export interface CallSegment {
  id: string;
  speaker: string;
  text: string;
  translation: string | null;
  startS: number;
}

/** A recording of a call (`GET /v1/sessions/{id}/recordings`). */
export interface CallRecording {
  id: string;
  channel: string;
  status: string;
  durationS: number;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value) || 0);
const listOf = (body: unknown, field: string): Array<Record<string, unknown>> =>
  (isRecord(body) && Array.isArray(body[field]) ? (body[field] as unknown[]) : []).filter(isRecord);

/** A call's status in the console's terms: created and connecting wait, active is live, ended is completed. */
function statusOf(value: unknown): ListedSession['status'] {
  return value === 'active' ? 'active' : value === 'ended' ? 'completed' : 'created';
}

/** `GET /v1/sessions?limit=100`: the organization's newest call sessions. @throws {PlatformError} */
export async function listCallSessions(key: string): Promise<ListedSession[]> {
  const body = await platformRequest(key, 'GET', '/v1/sessions?limit=100');
  return listOf(body, 'data').map((s) => ({
    id: str(s.id), kind: 'call' as const, status: statusOf(s.status), sourceLang: str(s.source_language), targetLang: str(s.target_language),
    startedAt: str(s.started_at ?? s.created_at), endedAt: strOrNull(s.ended_at), durationS: num(s.duration), participants: undefined,
  }));
}

/** `GET /v1/sessions/{id}`. @throws {PlatformError} 404 for an unknown call session or another organization's. */
export async function getCallSession(key: string, id: string): Promise<CallDetail> {
  const s = await platformRequest(key, 'GET', `/v1/sessions/${encodeURIComponent(id)}`);
  if (!isRecord(s)) throw new PlatformError(200, 'UNEXPECTED', 'The server sent an unreadable session.');
  return {
    id: str(s.id), status: statusOf(s.status), mode: str(s.mode), sourceLang: str(s.source_language), targetLang: str(s.target_language),
    startedAt: strOrNull(s.started_at), endedAt: strOrNull(s.ended_at), durationS: num(s.duration), endReason: strOrNull(s.end_reason),
  };
}

/** `GET /v1/sessions/{id}/transcript`: final segments with translations. @throws {PlatformError} */
export async function getCallTranscript(key: string, id: string): Promise<CallSegment[]> {
  const body = await platformRequest(key, 'GET', `/v1/sessions/${encodeURIComponent(id)}/transcript`);
  return listOf(body, 'segments').map((g) => ({ id: str(g.id), speaker: str(g.speaker), text: str(g.text), translation: strOrNull(g.translation), startS: num(g.start_time) }));
}

/** `GET /v1/sessions/{id}/recordings`. @throws {PlatformError} */
export async function listCallRecordings(key: string, id: string): Promise<CallRecording[]> {
  const body = await platformRequest(key, 'GET', `/v1/sessions/${encodeURIComponent(id)}/recordings`);
  return listOf(body, 'data').map((r) => ({ id: str(r.id), channel: str(r.channel), status: str(r.status), durationS: num(r.duration) }));
}

/**
 * `GET /v1/recordings/{id}/audio` with the key in the Authorization header, as a `blob:` URL an
 * `<audio>` element can play (the key is never put in the element's URL). Revoke it when done.
 * @throws {PlatformError} 404 when the recording is not ready, status 0 when unreachable.
 */
export async function recordingObjectUrl(key: string, recordingId: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`/v1/recordings/${encodeURIComponent(recordingId)}/audio`, { headers: { authorization: `Bearer ${key}` } });
  } catch {
    throw new PlatformError(0, 'UNREACHABLE', 'Cannot reach the Tolk server.');
  }
  if (!response.ok) {
    const parsed: unknown = await response.json().catch(() => undefined);
    const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
    throw new PlatformError(response.status, str(error.code) || `HTTP_${response.status}`, str(error.message) || `The recording could not be loaded (HTTP ${response.status}).`);
  }
  return URL.createObjectURL(await response.blob());
}

/** `POST /v1/sessions/{id}/end` with reason `completed`: hangs up and ends the call. @throws {PlatformError} */
export async function endCallSession(key: string, id: string): Promise<void> {
  await platformRequest(key, 'POST', `/v1/sessions/${encodeURIComponent(id)}/end`, { reason: 'completed' });
}
