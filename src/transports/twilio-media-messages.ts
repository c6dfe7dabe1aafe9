import { z } from 'zod';

/**
 * The JSON text messages of a Twilio bidirectional Media Stream (`<Connect><Stream>`), as Twilio's
 * "Media Streams - WebSocket Messages" documents them: `connected`, `start`, `media`, `dtmf`,
 * `mark` and `stop` from Twilio; `media`, `mark` and `clear` to Twilio. Wire format only.
 */

/** The one media format of a Media Stream: G.711 µ-law, 8000 Hz, mono. */
export const TWILIO_MEDIA_FORMAT = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } as const;

/** Bytes of one 20 ms µ-law frame at 8000 Hz (one byte per sample). */
export const MULAW_FRAME_BYTES = 160;

const connected = z.object({ event: z.literal('connected'), protocol: z.string(), version: z.string() });
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: z.string(),
  streamSid: z.string(),
  start: z.object({
    streamSid: z.string(),
    accountSid: z.string(),
    callSid: z.string(),
    tracks: z.array(z.string()),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: z.string(),
  streamSid: z.string(),
  media: z.object({ track: z.string(), chunk: z.string(), timestamp: z.string(), payload: z.string() }),
});
const mark = z.object({ event: z.literal('mark'), sequenceNumber: z.string(), streamSid: z.string(), mark: z.object({ name: z.string() }) });
const dtmf = z.object({
  event: z.literal('dtmf'), sequenceNumber: z.string(), streamSid: z.string(),
  dtmf: z.object({ track: z.string(), digit: z.string() }),
});
const stop = z.object({
  event: z.literal('stop'), sequenceNumber: z.string(), streamSid: z.string(),
  stop: z.object({ accountSid: z.string(), callSid: z.string() }),
});

/** A message Twilio sends on a Media Stream. */
export const twilioInboundMessage = z.discriminatedUnion('event', [connected, start, media, mark, dtmf, stop]);
/** One of {@link twilioInboundMessage}. */
export type TwilioInboundMessage = z.infer<typeof twilioInboundMessage>;
/** The `start` message: stream and call ids, tracks, media format, the TwiML's `<Parameter>`s. */
export type TwilioStartMessage = z.infer<typeof start>;

/** {@link parseTwilioMessage}'s answer. */
export type ParsedTwilioMessage = { ok: true; message: TwilioInboundMessage } | { ok: false; description: string };

/**
 * Parses one text frame from Twilio.
 * @returns the message, or why it is not one Twilio documents (not JSON, unknown event, missing field).
 */
export function parseTwilioMessage(text: string): ParsedTwilioMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, description: 'not JSON' };
  }
  const parsed = twilioInboundMessage.safeParse(json);
  if (!parsed.success) return { ok: false, description: parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ') };
  return { ok: true, message: parsed.data };
}

/** Why a `start` message's media format is not the documented µ-law 8000 Hz mono, or undefined. */
export function mediaFormatProblem(format: TwilioStartMessage['start']['mediaFormat']): string | undefined {
  const f = TWILIO_MEDIA_FORMAT;
  if (format.encoding !== f.encoding || format.sampleRate !== f.sampleRate || format.channels !== f.channels) {
    return `unsupported media format ${format.encoding} ${format.sampleRate} Hz ×${format.channels}: expected ${f.encoding} ${f.sampleRate} Hz mono`;
  }
  return undefined;
}

/** The `media` message that plays µ-law audio on the call (`media.payload` is base64). */
export function renderMedia(streamSid: string, mulaw: Uint8Array): string {
  return JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(mulaw).toString('base64') } });
}

/** The `mark` message: Twilio echoes it back once the audio sent before it has played (or was cleared). */
export function renderMark(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** The `clear` message: Twilio drops the audio it has buffered and not yet played (barge-in). */
export function renderClear(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}
