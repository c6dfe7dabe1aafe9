import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { ConversationStoreUnavailableError, type ConversationStore } from '../domain/conversations.js';
import { ConversationStream } from '../gateway/conversation-streams.js';
import type { LinkedPipelineEvent } from '../realtime/linked-pipeline.js';
import { IdleTimer } from '../realtime/idle-timer.js';
import { ROOM_SAMPLE_RATE_HZ, type ConversationRoom, type ConversationRooms, type RoomParticipant } from '../realtime/conversation-room.js';
import { findConversationLanguage } from '../gateway/conversation-languages.js';
import { parseJsonMessage, WsChannel } from './ws-channel.js';

/** Longest typed message, in characters. */
const MAX_TEXT_CHARS = 1000;

/** Largest inbound message, in bytes. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * One participant's `/api/v1/ws/:conversation_id?language=` connection (spec 003 Flow 2). On
 * connect: an unknown or expired conversation is `{"error":"Session not found."}` + close 4404, an
 * unsupported language `{"error":"Unsupported language …"}` + close 4400, an unreachable Redis
 * `{"error":"Redis service is unavailable."}` + close 4503. Then binary PCM s16le 16 kHz (or typed
 * `{"type":"text","text":…}` messages) in; the
 * room sends interims to this speaker and finals to everyone (see {@link ConversationRoom}), and the
 * others' translated speech (PCM s16le mono 16 kHz) when the URL asks for it with `speech=true`.
 * A room already holding `TOLK_ROOM_MAX_PARTICIPANTS` here refuses with `{"error":…}` + close 4429;
 * a socket that neither sends audio nor receives a final for `TOLK_ROOM_IDLE_TIMEOUT_S` is closed
 * with 4408 (docs/security.md "Conversation rooms").
 */
export class RoomConnection implements RoomParticipant {
  readonly id = randomUUID();
  /** BCP-47 tag of the language this participant speaks and reads (`?language=`). */
  readonly language: string;
  /** Whether this participant asked for the translated speech (`?speech=true`). */
  private readonly speech: boolean;
  private room: ConversationRoom | undefined;
  /**
   * This speaker's recognizer on a worker (docs/architecture.md "Processes") with its slot (every transport counts against
   * `TOLK_MAX_STREAMS`): opened at their first audio and again after its worker was lost.
   */
  private readonly stream: ConversationStream;
  private unrecognizedNoticeSent = false;
  /** A speaker silent for the idle-audio timeout gives its recognizer back; the next audio opens one again. */
  private readonly idleTimer = new IdleTimer(() => void this.stream.release(2000));
  private closed = false;
  /** Closes a socket through which nothing was said or translated for the room idle timeout. */
  private readonly silenceTimer = new IdleTimer(() => this.refuse(4408, `Nothing was said in this conversation for ${Math.round(this.ctx.config.roomLimits.idleTimeoutMs / 1000)} s; the connection is closed.`));
  /** The socket: frame limit, guarded send, byte-safe close. */
  private readonly channel: WsChannel;

  constructor(
    private readonly ctx: AppContext,
    private readonly store: ConversationStore,
    private readonly rooms: ConversationRooms,
    ws: WebSocket,
    private readonly conversationId: string,
    options: { language: string; speech: boolean },
    private readonly log: FastifyBaseLogger,
  ) {
    this.language = options.language;
    this.speech = options.speech;
    // The speaker's recognizer only transcribes (translator.mode none): the room translates once per language.
    this.stream = new ConversationStream(ctx, {
      conversationId, sourceLanguage: this.language, targetLanguage: this.language,
      voice: 'female', sampleRateHz: ROOM_SAMPLE_RATE_HZ, translatorMode: 'none',
    }, {
      onEvent: (event) => this.onPipelineEvent(event),
      onRefused: (refusal) => this.sendJson({
        error: refusal.status === 429 ? 'The server is at capacity; your speech is not being recognized. Try again shortly.' : 'The speech recognizer could not start; try again.',
      }),
      onOpened: () => this.idleTimer.arm(ctx.config.streamLimits.idleAudioTimeoutMs),
    }, log);
    this.channel = new WsChannel(ws, {
      maxFrameBytes: MAX_MESSAGE_BYTES, maxBufferedBytes: ctx.config.maxBufferedBytes, label: 'conversation room', log,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onOversize: () => this.sendJson({ error: `Message too large (over ${MAX_MESSAGE_BYTES} bytes).` }),
      onFailure: () => this.sendJson({ error: 'The server failed to process the message.' }),
      onClose: () => void this.shutdown(),
    });
  }

  /** Checks the conversation and the language, then joins the room. */
  async start(): Promise<void> {
    let found;
    try {
      found = await this.store.get(this.conversationId);
    } catch (err) {
      if (err instanceof ConversationStoreUnavailableError) return this.refuse(4503, err.message);
      throw err;
    }
    if (!found) return this.refuse(4404, 'Session not found.');
    const lang = findConversationLanguage(this.ctx.engines, this.language);
    if (!lang || !(lang.recognized || lang.translated)) return this.refuse(4400, `Unsupported language "${this.language}".`);
    if (this.closed) return;
    await this.store.touch(this.conversationId).catch(() => false);
    const room = this.rooms.open(this.conversationId);
    const { maxParticipants, idleTimeoutMs } = this.ctx.config.roomLimits;
    if (room.size >= maxParticipants) {
      await this.rooms.release(room);
      return this.refuse(4429, `This conversation is full: at most ${maxParticipants} participants.`);
    }
    this.room = room;
    this.silenceTimer.arm(idleTimeoutMs);
    try {
      await room.join(this);
    } catch (err) {
      if (this.room === room) this.room = undefined;
      await this.rooms.release(room);
      if (err instanceof ConversationStoreUnavailableError) return this.refuse(4503, err.message);
      throw err;
    }
  }

  sendJson(message: object): void {
    if ('is_interim' in message && message.is_interim === false) this.silenceTimer.touch(); // a final: the conversation is alive
    this.channel.sendJson(message);
  }

  sendAudio(pcm: Buffer): void {
    if (this.speech) this.channel.send(pcm);
  }

  private refuse(code: number, message: string): void {
    this.sendJson({ error: message });
    this.closed = true;
    this.channel.close(code, message);
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.closed || !this.room) return;
    this.silenceTimer.touch();
    if (!isBinary) return this.onText(data.toString('utf8'));
    const lang = findConversationLanguage(this.ctx.engines, this.language);
    if (!lang?.recognized) {
      if (!this.unrecognizedNoticeSent) {
        this.unrecognizedNoticeSent = true;
        this.sendJson({ error: `Speech in ${lang?.name ?? this.language} cannot be recognized on this server; you can still read and hear the others.` });
      }
      return;
    }
    this.idleTimer.touch();
    await this.stream.push(data, Date.now());
  }

  /**
   * A typed message, beside spec 003 (which defines no client JSON in Flow 2; docs/conversations.md
   * "Typed messages"): `{"type":"text","text":"…"}` (1–{@link MAX_TEXT_CHARS} characters) is a final
   * of this participant, translated and delivered like speech. Other JSON is ignored.
   */
  private onText(raw: string): void {
    const message = parseJsonMessage(raw, 'message');
    if (!message.ok) return;
    const json = message.json as { type?: unknown; text?: unknown } | null;
    if (typeof json !== 'object' || json === null || json.type !== 'text') return;
    const text = typeof json.text === 'string' ? json.text.trim() : '';
    if (text === '' || text.length > MAX_TEXT_CHARS) {
      return this.sendJson({ error: `A text message needs "text" of 1 to ${MAX_TEXT_CHARS} characters.` });
    }
    const room = this.room;
    if (!room) return;
    void this.store.touch(this.conversationId).catch(() => false);
    room.deliver(this, { utteranceId: randomUUID(), text, speechEndWallMs: Date.now() }).catch((err: unknown) => {
      this.log.error({ err }, 'conversation delivery failed');
    });
  }

  private onPipelineEvent(event: LinkedPipelineEvent): void {
    const room = this.room;
    if (!room || this.closed) return;
    if (event.type === 'transcript') {
      if (!event.final) room.interim(this, event.text);
    } else if (event.type === 'utterance-end') {
      // The utterance's end carries its final's text: the room translates it once per language.
      const e = event;
      const text = e.transcript;
      if (!text) return;
      void this.store.touch(this.conversationId).catch(() => false);
      const speechEndWallMs = Date.now() - e.latency.finalTranscriptMs;
      room.deliver(this, { utteranceId: e.utteranceId, text, speechEndWallMs }).catch((err: unknown) => {
        this.log.error({ err }, 'conversation delivery failed');
      });
    } else if (event.type === 'error') {
      this.log.error({ status: event.status, description: event.description }, 'conversation pipeline failed');
      this.sendJson({ error: event.description });
    } else if (event.type === 'lost') {
      this.log.warn({ code: event.code, reason: event.reason }, 'conversation recognizer lost: its worker stopped');
      this.sendJson({ error: 'The speech recognizer stopped; what you say next is recognized on another worker.' });
    }
  }

  /** Leaves the room and releases the recognizer (idempotent). */
  async shutdown(): Promise<void> {
    if (this.closed && !this.room) return;
    this.closed = true;
    this.channel.stop();
    const room = this.room;
    this.room = undefined;
    if (room) {
      await room.leave(this);
      await this.rooms.release(room);
    }
    this.idleTimer.stop();
    this.silenceTimer.stop();
    await this.stream.close(0);
  }
}
