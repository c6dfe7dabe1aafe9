import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { decodeToLinear } from '../audio/g711.js';
import { encodeS16le } from '../audio/pcm.js';
import type { CallControl, MediaLeg, MediaLegSink } from '../domain/calls/telephony.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { mediaFormatProblem, parseTwilioMessage, TWILIO_MEDIA_FORMAT, type TwilioInboundMessage, type TwilioStartMessage } from './twilio-media-messages.js';
import { TwilioPlayback } from './twilio-playback.js';
import { bargeIn } from '../core/audio-output.js';
import { WsChannel } from './ws-channel.js';

/** What a Media Stream connection needs from the server. */
export interface TwilioMediaOptions {
  /** The session the stream belongs to (from the stream URL `/twilio/media/{sessionId}`, or the phone call's). */
  sessionId: string;
  /**
   * What the stream joins on `start`: the call sessions (it becomes the session's `customer` leg),
   * or a phone call into a platform session (docs/phone.md "Twilio").
   */
  calls: Pick<CallControl, 'attachMediaLeg'>;
  /** Largest inbound message, bytes; outbound bytes the peer may leave unread. */
  maxFrameBytes: number;
  maxBufferedBytes: number;
  /** Time Twilio has to send `start` after the socket opened, in ms. */
  startTimeoutMs: number;
  /** Time the stream may go without a `media` message (Twilio sends 50 a second, silence included), in ms. */
  idleMediaTimeoutMs: number;
  /** The stream stopped (Twilio `stop`, or the socket closed): the route reports it for the call. */
  onStopped?(info: { callSid: string | undefined; reason: string }): void;
  log: FastifyBaseLogger;
}

/**
 * One Twilio Media Stream (`<Connect><Stream>`, bidirectional): the adapter between Twilio's
 * documented messages and a call session's `customer` leg. On `start` it checks the format
 * (µ-law 8000 Hz mono) and attaches the leg (`CallControl.attachMediaLeg`, s16le at 8000 Hz both
 * ways); each `media` payload is decoded from µ-law and pushed into the leg; what the session sends
 * back is µ-law-encoded into 20 ms `media` frames with a `mark` after each burst; `clearAudio`
 * (barge-in) sends `clear`; `stop` or a closed socket ends the leg. Frames are size-limited, and a
 * stream that never starts or stops sending media is closed.
 */
export class TwilioMediaConnection {
  private state: 'awaiting-start' | 'starting' | 'streaming' | 'closed' = 'awaiting-start';
  private readonly channel: WsChannel;
  private leg: MediaLeg | undefined;
  private playback: TwilioPlayback | undefined;
  private callSid: string | undefined;
  private ending: Promise<void> | undefined;
  /** Media frames received from Twilio (the caller's 20 ms chunks). */
  mediaFramesReceived = 0;
  private readonly idleTimer = new IdleTimer(() => {
    const what = this.state === 'awaiting-start' ? `no start message within ${this.o.startTimeoutMs} ms` : `no media for ${this.o.idleMediaTimeoutMs} ms`;
    this.fail(1008, what);
  });

  constructor(ws: WebSocket, private readonly o: TwilioMediaOptions) {
    this.channel = new WsChannel(ws, {
      maxFrameBytes: o.maxFrameBytes, maxBufferedBytes: o.maxBufferedBytes, label: 'twilio media', log: o.log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: (description) => this.fail(1009, description),
      onFailure: () => this.fail(1011, 'server failed to process the stream'),
      onClose: () => void this.end('socket closed'),
    });
    this.idleTimer.arm(o.startTimeoutMs);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) return this.fail(1003, 'binary frame: Media Streams messages are JSON text');
    const parsed = parseTwilioMessage(data.toString('utf8'));
    if (!parsed.ok) {
      this.o.log.warn({ problem: parsed.description }, 'twilio media: message ignored');
      return;
    }
    await this.handle(parsed.message);
  }

  private async handle(message: TwilioInboundMessage): Promise<void> {
    switch (message.event) {
      case 'connected':
        return;
      case 'start':
        return this.start(message);
      case 'media':
        return this.media(message.media.payload, message.media.track);
      case 'mark':
        this.playback?.markPlayed(message.mark.name);
        return;
      case 'dtmf':
        this.o.log.info({ digit: message.dtmf.digit, callSid: this.callSid }, 'twilio media: dtmf');
        return;
      case 'stop':
        this.channel.close(1000, 'stream stopped');
        return this.end('stop');
    }
  }

  private async start(message: TwilioStartMessage): Promise<void> {
    if (this.state !== 'awaiting-start') return;
    const problem = mediaFormatProblem(message.start.mediaFormat);
    if (problem) return this.fail(1003, problem);
    this.state = 'starting';
    this.callSid = message.start.callSid;
    const playback = new TwilioPlayback(message.start.streamSid, (text) => this.channel.send(text));
    this.playback = playback;
    const sink: MediaLegSink = {
      sendAudio: (chunk) => {
        if (this.state === 'streaming') playback.play(chunk);
      },
      clearAudio: () => {
        if (this.state === 'streaming') bargeIn(playback);
      },
      close: (reason) => {
        this.channel.close(1000, reason);
        void this.end(reason);
      },
    };
    try {
      this.leg = await this.o.calls.attachMediaLeg(this.o.sessionId, 'customer', { encoding: 'pcm16', sampleRateHz: TWILIO_MEDIA_FORMAT.sampleRate }, sink);
    } catch (err) {
      this.o.log.warn({ err, sessionId: this.o.sessionId }, 'twilio media: the session refused the stream');
      return this.fail(1008, err instanceof Error ? err.message : 'the session refused the stream');
    }
    if (this.state !== 'starting') {
      await this.leg.end();
      return;
    }
    this.state = 'streaming';
    this.idleTimer.arm(this.o.idleMediaTimeoutMs);
    this.o.log.info({ sessionId: this.o.sessionId, callSid: this.callSid, streamSid: message.start.streamSid }, 'twilio media stream started');
  }

  private media(payload: string, track: string): void {
    if (this.state !== 'streaming' || track !== 'inbound') return;
    this.idleTimer.touch();
    this.mediaFramesReceived++;
    this.leg?.pushAudio(encodeS16le(decodeToLinear(Buffer.from(payload, 'base64'), 'mulaw')));
  }

  /** Outbound 20 ms frames sent to Twilio so far. */
  get mediaFramesSent(): number {
    return this.playback?.framesSent ?? 0;
  }

  private fail(code: number, reason: string): void {
    this.o.log.warn({ sessionId: this.o.sessionId, callSid: this.callSid, reason }, 'twilio media stream closed');
    this.channel.close(code, reason);
    void this.end(reason);
  }

  /** Ends the stream (idempotent): the leg ends, timers stop, the route hears of it. */
  end(reason: string): Promise<void> {
    return (this.ending ??= (async () => {
      this.state = 'closed';
      this.idleTimer.stop();
      void this.playback?.close();
      this.channel.stop();
      try {
        await this.leg?.end();
      } finally {
        this.o.onStopped?.({ callSid: this.callSid, reason });
      }
    })());
  }
}
