import { AccessToken, RoomServiceClient, TrackSource } from 'livekit-server-sdk';
import type { TolkConfig } from '../config.js';

/** The LiveKit settings of {@link TolkConfig}. */
export type LiveKitSettings = TolkConfig['liveKit'];

/** `ParticipantInfo.Kind.AGENT` of LiveKit's protocol (not re-exported by livekit-server-sdk). */
const PARTICIPANT_KIND_AGENT = 4;

/** Time a call to LiveKit's server API may take before it fails, in seconds. */
const SERVER_API_TIMEOUT_S = 5;

/** Who a room token lets in, and for how long. */
export interface RoomTokenOptions {
  /** Room to join (Tolk names a session's room after the session id, a spec-001 room `api-…`). */
  room: string;
  /** Participant identity (`usr_…`). */
  identity: string;
  /** Display name (spec 000 `speaker_name`, spec 001 "API Client"). */
  name: string;
  /** Lifetime of the token, in seconds. */
  ttlS: number;
}

/**
 * Mints a LiveKit access token (JWT signed with the API secret) that lets `identity` join `room`,
 * publish its microphone and data, and subscribe (spec 000 `roomToken`, spec 001 `token`). It
 * grants nothing else: no other track source (camera, screen share), no room administration,
 * creation, listing or recording, no metadata updates. No LiveKit server is contacted.
 */
export async function mintRoomToken(settings: LiveKitSettings, o: RoomTokenOptions): Promise<string> {
  const token = new AccessToken(settings.apiKey, settings.apiSecret, { identity: o.identity, name: o.name, ttl: o.ttlS });
  token.addGrant({
    roomJoin: true, room: o.room, canPublish: true, canPublishSources: [TrackSource.MICROPHONE], canSubscribe: true, canPublishData: true,
  });
  return token.toJwt();
}

/** The identity under which Tolk's interpreter joins every room (docs/rooms.md). */
export const INTERPRETER_IDENTITY = 'tolk-interpreter';

/**
 * Mints the token of Tolk's interpreter for `room`: an `agent` participant that subscribes to the
 * speakers, publishes the translated speech (a microphone-source track) and data. Lives `ttlS` seconds.
 */
export async function mintInterpreterToken(settings: LiveKitSettings, room: string, ttlS: number): Promise<string> {
  const token = new AccessToken(settings.apiKey, settings.apiSecret, { identity: INTERPRETER_IDENTITY, name: 'Interpreter', ttl: ttlS });
  token.kind = 'agent';
  token.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true, agent: true });
  return token.toJwt();
}

function roomService(settings: LiveKitSettings): RoomServiceClient {
  return new RoomServiceClient(settings.url, settings.apiKey, settings.apiSecret, { requestTimeout: SERVER_API_TIMEOUT_S, failover: false });
}

/**
 * Creates `room` on the LiveKit server (idempotent: an existing room is returned as is). LiveKit
 * closes it `emptyTimeoutS` seconds after the last participant left (or after creation, when
 * nobody joins).
 * @throws {Error} when the LiveKit server cannot be reached within 5 s or refuses.
 */
export async function createRoom(settings: LiveKitSettings, room: string, emptyTimeoutS: number): Promise<void> {
  await roomService(settings).createRoom({ name: room, emptyTimeout: emptyTimeoutS, departureTimeout: emptyTimeoutS });
}

/**
 * How many participants each of `rooms` has right now (one server API call for all of them); a
 * room LiveKit does not know (not created, or closed after its empty timeout) is absent.
 * @throws {Error} when the LiveKit server cannot be reached within 5 s or refuses.
 */
export async function roomOccupancy(settings: LiveKitSettings, rooms: readonly string[]): Promise<Map<string, number>> {
  if (rooms.length === 0) return new Map();
  const list = await roomService(settings).listRooms([...rooms]);
  return new Map(list.map((r) => [r.name, r.numParticipants]));
}

/** A participant present in a LiveKit room. */
export interface RoomParticipant {
  identity: string;
  name: string;
  /** True for agents (Tolk's interpreter), false for people and other clients. */
  agent: boolean;
}

/**
 * The participants in `room` right now, as the LiveKit server sees them; empty when the room does
 * not exist (yet, or any more).
 * @throws {Error} when the LiveKit server cannot be reached within 5 s or refuses.
 */
export async function listRoomParticipants(settings: LiveKitSettings, room: string): Promise<RoomParticipant[]> {
  try {
    const list = await roomService(settings).listParticipants(room);
    return list.map((p) => ({ identity: p.identity, name: p.name, agent: (p.kind as number) === PARTICIPANT_KIND_AGENT }));
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 404;
}

/**
 * Disconnects a participant from a LiveKit room (spec 000 revoke: "disconnected from the LiveKit
 * room") through the server API at `settings.url`. A participant who is not in the room is no error.
 * @throws {Error} when the LiveKit server cannot be reached within 5 s or refuses (callers log it).
 */
export async function removeRoomParticipant(settings: LiveKitSettings, room: string, identity: string): Promise<void> {
  try {
    await roomService(settings).removeParticipant(room, identity);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
