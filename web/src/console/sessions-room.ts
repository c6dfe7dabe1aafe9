/**
 * Hands a session's room access from the console ("Start a session and join its room",
 * docs/console.md "Sessions") to the room page (`/room`) in memory only: the LiveKit token never
 * goes into a URL or storage. Taken once; a reload of /room shows the room page's own form.
 */

/** The LiveKit URL and room token of a session the console just created. */
export interface HandedRoom {
  url: string;
  token: string;
  sessionId: string;
}

let handed: HandedRoom | undefined;

/** Keeps `room` for the next mount of the room page. */
export function handRoom(room: HandedRoom): void {
  handed = room;
}

/** The room handed by the console, once (then forgotten), or undefined. */
export function takeHandedRoom(): HandedRoom | undefined {
  const room = handed;
  handed = undefined;
  return room;
}
