import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { S16leDecoder } from '../../audio/pcm.js';
import type { AppContext } from '../../context.js';
import { ConversationStoreUnavailableError, type ConversationStore } from '../../domain/conversations.js';
import { TranslationPipeline, type PipelineEvent } from '../../pipeline/translation-pipeline.js';
import { ROOM_SAMPLE_RATE_HZ, type ConversationRoom, type ConversationRooms, type RoomParticipant } from '../../realtime/conversation-room.js';
import { findConversationLanguage } from './languages.js';

/** Largest inbound message, in bytes. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * One participant's `/api/v1/ws/:conversation_id?language=` connection (spec 003 Flow 2). On
 * connect: an unknown or expired conversation is `{"error":"Session not found."}` + close 4404, an
 * unsupported language `{"error":"Unsupported language …"}` + close 4400, an unreachable Redis
 * `{"error":"Redis service is unavailable."}` + close 4503. Then binary PCM s16le 16 kHz in; the
 * room sends interims to this speaker and finals to everyone (see {@link ConversationRoom}).
 */
export class RoomConnection implements RoomParticipant {
  readonly id = randomUUID();
  private room: ConversationRoom | undefined;
  private pipeline: TranslationPipeline | undefined;
  private starting: Promise<void> | undefined;
  private readonly decoder = new S16leDecoder();
  private unrecognizedNoticeSent = false;
  private closed = false;
  private lastFinal = new Map<string, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly store: ConversationStore,
    private readonly rooms: ConversationRooms,
    private readonly ws: WebSocket,
    private readonly conversationId: string,
    readonly language: string,
    private readonly log: FastifyBaseLogger,
  ) {
    ws.on('message', (data, isBinary) => void this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => void this.shutdown());
    ws.on('error', () => void this.shutdown());
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
    this.room = room;
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
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }

  sendAudio(pcm: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(pcm);
  }

  private refuse(code: number, message: string): void {
    this.sendJson({ error: message });
    this.closed = true;
    this.ws.close(code, message.slice(0, 120));
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.closed || !this.room) return;
    if (!isBinary) return; // spec 003 defines no client JSON messages in Flow 2
    if (data.length > MAX_MESSAGE_BYTES) return this.sendJson({ error: `Message too large (over ${MAX_MESSAGE_BYTES} bytes).` });
    const lang = findConversationLanguage(this.ctx.engines, this.language);
    if (!lang?.recognized) {
      if (!this.unrecognizedNoticeSent) {
        this.unrecognizedNoticeSent = true;
        this.sendJson({ error: `Speech in ${lang?.name ?? this.language} cannot be recognized on this server; you can still read and hear the others.` });
      }
      return;
    }
    this.starting ??= this.startPipeline();
    await this.starting;
    this.pipeline?.push(this.decoder.decode(data));
  }

  private async startPipeline(): Promise<void> {
    const pipeline = new TranslationPipeline(this.ctx.engines, {
      sourceLanguage: this.language, targetLanguage: this.language, voice: 'female', sampleRateHz: ROOM_SAMPLE_RATE_HZ,
      vocabulary: [], dictionary: [], interim: true, final: true, translate: false, mode: 'recognize',
      endpointSilenceMs: this.ctx.config.endpointSilenceMs, maxUtteranceMs: this.ctx.config.maxUtteranceMs,
    }, (event) => this.onPipelineEvent(event));
    try {
      await pipeline.start();
    } catch (err) {
      this.log.error({ err }, 'conversation pipeline start failed');
      this.sendJson({ error: 'The speech recognizer could not start; try again.' });
      return;
    }
    if (this.closed) return void (await pipeline.close(0));
    this.pipeline = pipeline;
  }

  private onPipelineEvent(event: PipelineEvent): void {
    const room = this.room;
    if (!room || this.closed) return;
    if (event.type === 'transcript') {
      if (!event.final) room.interim(this, event.text);
      else this.lastFinal.set(event.utteranceId, event.text);
    } else if (event.type === 'utterance-end') {
      const text = this.lastFinal.get(event.utteranceId) ?? event.transcript;
      this.lastFinal.delete(event.utteranceId);
      if (!text) return;
      void this.store.touch(this.conversationId).catch(() => false);
      const speechEndWallMs = Date.now() - event.latency.finalTranscriptMs;
      room.deliver(this, { utteranceId: event.utteranceId, text, speechEndWallMs }).catch((err: unknown) => {
        this.log.error({ err }, 'conversation delivery failed');
      });
    } else if (event.type === 'error') {
      this.log.error({ err: event.cause }, 'conversation pipeline failed');
      this.sendJson({ error: event.description });
    }
  }

  /** Leaves the room and releases the recognizer (idempotent). */
  async shutdown(): Promise<void> {
    if (this.closed && !this.room) return;
    this.closed = true;
    const room = this.room;
    this.room = undefined;
    if (room) {
      await room.leave(this);
      await this.rooms.release(room);
    }
    await this.starting;
    const p = this.pipeline;
    this.pipeline = undefined;
    await p?.close(0);
  }
}
