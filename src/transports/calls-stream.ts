import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { CallsContext } from '../gateway/calls/calls-service.js';
import type { CallLeg } from '../domain/calls/model.js';
import { getCallSessionById } from '../domain/calls/sessions.js';
import { callAudioFormatProblem, CallAudioCodec, type CallAudioFormat } from '../gateway/calls/call-audio.js';
import type { CallParticipant, CallRoom, CallRoomEvent } from '../gateway/calls/call-room.js';
import { streamTokenMatches } from '../gateway/calls/calls-service.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { audioMessage, audioOf, clientMessageSchema, errorMessage, renderCallEvent, type ClientMessage } from './calls-stream-messages.js';
import { firstIssueDescription, parseJsonMessage, WsChannel } from './ws-channel.js';

/** What the route found on the upgrade request. */
export interface CallStreamRequest {
  sessionId: string;
  /** `?token=` or `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** `?speaker=customer|agent` (default customer): the leg this socket speaks for and listens as. */
  speaker: string | undefined;
}

/**
 * One socket at a session's `stream.url` (spec 004, docs/calls.md "Stream protocol"): the adapter
 * maps the vendor's JSON messages onto a {@link CallRoom} and nothing else. It checks the stream
 * token, joins the call as one leg, decodes audio (PCM16, PCM8, µ-law, A-law at 8/16/24/48 kHz;
 * binary frames count as audio in the last format used) and sends both legs' transcripts and
 * translations plus the speech this leg should hear, in the format this socket last sent.
 */
export class CallStreamConnection implements CallParticipant {
  readonly leg: CallLeg;
  private readonly channel: WsChannel;
  private readonly codec = new CallAudioCodec();
  private room: CallRoom | undefined;
  private format: CallAudioFormat = { encoding: 'pcm_16', sampleRateHz: 16000, channels: 1 };
  private muted = false;
  private transcriptsPaused = false;
  private closed = false;
  private readonly idle = new IdleTimer(() => this.fail(408, `No message received for ${this.ctx.config.streamLimits.idleAudioTimeoutMs / 1000} s; send ping to keep a listening socket open`));

  constructor(private readonly ctx: CallsContext, ws: WebSocket, private readonly req: CallStreamRequest, private readonly log: FastifyBaseLogger) {
    this.leg = req.speaker === 'agent' ? 'agent' : 'customer';
    this.channel = new WsChannel(ws, {
      maxFrameBytes: ctx.config.maxFrameBytes, maxBufferedBytes: ctx.config.maxBufferedBytes, label: 'calls stream', log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: (description) => this.fail(400, description),
      onFailure: () => this.fail(500, 'Server failed to process the message'),
      onClose: () => void this.shutdown(),
      backlogMs: () => this.room?.backlogMs(this.leg),
    });
    this.idle.arm(ctx.config.streamLimits.idleAudioTimeoutMs);
  }

  /** Checks the token and joins the call; every refusal is an error message and a close with 4000 + status. */
  async start(): Promise<void> {
    if (this.req.speaker !== undefined && this.req.speaker !== 'customer' && this.req.speaker !== 'agent') {
      return this.fail(400, `Invalid speaker "${this.req.speaker}": use customer or agent`);
    }
    if (!this.req.token) return this.fail(401, 'Missing stream token: pass ?token=<stream.token> or Authorization: Bearer <stream.token>');
    const session = await getCallSessionById(this.ctx.db, this.req.sessionId);
    if (!session || !streamTokenMatches(session, this.req.token)) {
      if (session?.status === 'ended') return this.fail(409, `Session ${session.id} has ended`);
      return this.fail(401, 'Invalid or expired stream token', 'invalid_token');
    }
    const calls = this.ctx.callSessions;
    if (!calls) return this.fail(500, 'The calls runtime is not started');
    const joined = await calls.rooms.join(session.id, this);
    if (!joined.ok) return this.fail(joined.status, joined.description, joined.code);
    if (this.closed) {
      await calls.rooms.leave(joined.room, this);
      return;
    }
    this.room = joined.room;
    this.channel.sendJson({ type: 'session.ready', session_id: session.id, speaker: this.leg, mode: session.mode });
  }

  /** {@inheritDoc CallParticipant.send} */
  send(event: CallRoomEvent): void {
    if (this.transcriptsPaused && event.type !== 'error') return;
    this.channel.send(renderCallEvent(event));
  }

  /** {@inheritDoc CallParticipant.play} */
  play(pcm: Buffer): void {
    const bytes = this.codec.encode(pcm, this.format);
    if (bytes.length > 0) this.channel.send(audioMessage(bytes, this.format));
  }

  /** {@inheritDoc CallParticipant.end} */
  end(reason: string): void {
    this.channel.sendJson({ type: 'session.ended', session_id: this.req.sessionId, reason });
    this.channel.close(1000, 'Session ended');
    this.room = undefined;
    void this.shutdown();
  }

  /** {@inheritDoc CallParticipant.fail} */
  fail(status: number, description: string, code?: string): void {
    if (this.closed) return;
    this.sendError(status, description, code);
    this.channel.close(4000 + status, description);
    void this.shutdown();
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    this.idle.touch();
    if (!this.room) return;
    if (isBinary) return this.pushAudio(data, this.format);
    const parsed = parseJsonMessage(data.toString('utf8'), 'message');
    if (!parsed.ok) return this.sendError(400, parsed.description);
    const message = clientMessageSchema.safeParse(parsed.json);
    if (!message.success) return this.sendError(400, firstIssueDescription(message.error, 'message'));
    await this.handle(message.data);
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'audio':
      case 'audio.input': {
        const audio = audioOf(message);
        const problem = callAudioFormatProblem(audio.format);
        if (problem) return this.sendError(400, problem, 'invalid_audio_format');
        this.format = audio.format;
        return this.pushAudio(audio.bytes, audio.format, audio.speaker);
      }
      case 'control':
        if (message.action === 'mute' || message.action === 'unmute') this.muted = message.action === 'mute';
        else this.transcriptsPaused = message.action === 'pause_transcription';
        return;
      case 'ping':
        this.channel.sendJson({ type: 'pong', session_id: this.req.sessionId });
        return;
      case 'end':
        // Done sending: the leg's utterance in flight finishes, its events still come, then the socket closes.
        await this.room?.idle();
        this.channel.close(1000, 'Stream ended');
        return;
      case 'session.end':
        await this.ctx.callSessions?.endSession(this.req.sessionId, 'completed');
        return;
    }
  }

  private pushAudio(bytes: Buffer, format: CallAudioFormat, speaker?: CallLeg): void {
    if (this.muted || !this.room) return;
    this.room.pushAudio(speaker ?? this.leg, this.codec.decode(bytes, format));
    this.channel.checkBackpressure();
  }

  private sendError(status: number, description: string, code?: string): void {
    this.channel.send(errorMessage(status, description, code));
  }

  private async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.idle.stop();
    this.channel.stop();
    const room = this.room;
    this.room = undefined;
    if (room) await this.ctx.callSessions?.rooms.leave(room, this).catch((err: unknown) => this.log.warn({ err }, 'leaving the call failed'));
  }
}
