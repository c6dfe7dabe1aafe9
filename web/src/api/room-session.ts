/**
 * `POST /api/beta1/session` (spec 001): creates a LiveKit room with Tolk's interpreter in it and
 * returns what a client needs to join. The API key is sent once, as `Authorization: Bearer`, and is
 * never stored by the app.
 */
import { ApiError, isRecord } from './http';

/** The three voices of spec 001's `voice_type`. */
export type VoiceType = 'clone' | 'female' | 'male';

/** What a room client joins with: the spec-001 answer (or a spec-000 `liveKitUrl` + `roomToken`). */
export interface RoomAccess {
  /** The LiveKit server, `ws(s)://…`. */
  url: string;
  /** The participant's JWT for the room. */
  token: string;
  /** `api-<random>` for spec 001; undefined when pasted by hand. */
  roomName: string | undefined;
}

/** The body of `POST /api/beta1/session`. */
export interface RoomSessionRequest {
  /** BCP 47, e.g. `en-US`. */
  sourceLanguage: string;
  targetLanguage: string;
  voiceType: VoiceType;
  /** Simultaneous mode for the room's speakers (sent only when true; docs/rooms.md "Simultaneous mode"). */
  simultaneous?: boolean;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * What a spec-001 `internal_error` means for the visitor. The room is created only once the
 * interpreter joined it (docs/rooms.md), so a generic 500 says the interpreter could not join; a
 * specific server message ("LiveKit is not configured …") is kept as it is.
 */
export function interpreterFailure(serverMessage: string): string {
  if (serverMessage !== 'An internal error occurred') return serverMessage;
  return 'Tolk’s interpreter could not join the room, so the session was ended. Usually the LiveKit server is stopped or cannot be reached from Tolk (LIVEKIT_URL); the server’s log says more. Try again once it is running.';
}

/**
 * Creates a spec-001 session.
 * @throws {ApiError} with spec 001's error message (401 invalid key, 400 unsupported language, 429,
 * 500 when LiveKit is not configured), or status 0 when the server cannot be reached.
 */
export async function createRoomSession(apiKey: string, request: RoomSessionRequest): Promise<RoomAccess> {
  let response: Response;
  try {
    response = await fetch('/api/beta1/session', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        source_language: request.sourceLanguage, target_language: request.targetLanguage, voice_type: request.voiceType,
        ...(request.simultaneous ? { simultaneous: true } : {}),
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the Tolk server.');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
    const message = typeof error?.message === 'string' && error.message ? error.message : `The session could not be created (HTTP ${response.status}).`;
    throw new ApiError(response.status, response.status === 500 && error?.code === 'internal_error' ? interpreterFailure(message) : message);
  }
  if (!isRecord(body) || typeof body.url !== 'string' || typeof body.token !== 'string' || !body.url || !body.token) {
    throw new ApiError(response.status, 'The server did not return a room.');
  }
  return { url: body.url, token: body.token, roomName: typeof body.room_name === 'string' ? body.room_name : undefined };
}
