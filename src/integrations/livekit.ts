import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import type { TolkConfig } from '../config.js';

/** The LiveKit settings of {@link TolkConfig}. */
export type LiveKitSettings = TolkConfig['liveKit'];

/** Who a room token lets in, and for how long. */
export interface RoomTokenOptions {
  /** Room to join (Tolk names a session's room after the session id). */
  room: string;
  /** Participant identity (`usr_…`). */
  identity: string;
  /** Display name (spec 000 `speaker_name`). */
  name: string;
  /** Lifetime of the token, in seconds. */
  ttlS: number;
}

/**
 * Mints a LiveKit access token (JWT signed with the API secret) that lets `identity` join `room`,
 * publish and subscribe (spec 000 `roomToken`). No LiveKit server is contacted.
 */
export async function mintRoomToken(settings: LiveKitSettings, o: RoomTokenOptions): Promise<string> {
  const token = new AccessToken(settings.apiKey, settings.apiSecret, { identity: o.identity, name: o.name, ttl: o.ttlS });
  token.addGrant({ roomJoin: true, room: o.room, canPublish: true, canSubscribe: true, canPublishData: true });
  return token.toJwt();
}

/**
 * Disconnects a participant from a LiveKit room (spec 000 revoke: "disconnected from the LiveKit
 * room") through the server API at `settings.url`.
 * @throws {Error} when the LiveKit server cannot be reached or refuses (callers log it).
 */
export async function removeRoomParticipant(settings: LiveKitSettings, room: string, identity: string): Promise<void> {
  const client = new RoomServiceClient(settings.url, settings.apiKey, settings.apiSecret, { requestTimeout: 5, failover: false });
  await client.removeParticipant(room, identity);
}
