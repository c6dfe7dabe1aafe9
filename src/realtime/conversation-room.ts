import type { Engines } from '../providers/registry.js';
import { primaryLanguage } from '../common/language-tags.js';
import type { VoiceName } from '../providers/tts/types.js';
import { listenerLanguages, RoomFanOut } from '../rooms/fan-out.js';
import { MemoryRoomBus, type RoomBus, type RoomEvent, type RoomJoin, type RoomMember, type RoomMembershipEvent, type RoomUnsubscribe } from './room-bus.js';
import { SpeechSequencer } from './room-speech.js';

/** A participant's connection as the room sees it (spec 003 Flow 2). */
export interface RoomParticipant {
  readonly id: string;
  /** The language this participant speaks and reads (`?language=`). */
  readonly language: string;
  /** Sends a JSON message (never throws). */
  sendJson(message: object): void;
  /** Sends translated speech, s16le mono at 16 kHz (never throws). */
  sendAudio(pcm: Buffer): void;
}

/** A final transcript of one participant, ready to be delivered. */
export interface RoomFinal {
  utteranceId: string;
  text: string;
  /** Wall-clock time the speech ended, in ms since the epoch (for `latency_ms`). */
  speechEndWallMs: number;
}

/** Rate of the PCM a room exchanges (spec 003: the app sends 16 kHz mono s16le). */
export const ROOM_SAMPLE_RATE_HZ = 16000;

/** A local participant and what it has been told of the membership. */
interface Seat {
  p: RoomParticipant;
  /** Its join on the bus (resolves to undefined when it failed). */
  joined: Promise<RoomJoin | undefined>;
  /** Membership events that arrived before its own join completed. */
  early: RoomMembershipEvent[] | undefined;
  /** The membership version it was last told about. */
  seen: number;
}

/** Options of a {@link ConversationRoom}. */
export interface ConversationRoomOptions {
  /** Voice of the translated speech. */
  voice?: VoiceName;
  /** Where failures that reach no caller go. */
  log?: (err: unknown, message: string) => void;
  /** How long a speech stream may stay silent before it is given up (default 10 s). */
  speechStallMs?: number;
}

/**
 * One conversation's participants in this process, rendered as spec 003 Flow 2 messages, over the
 * room core ({@link RoomFanOut}: translate and speak once per language, docs/architecture.md "The pipeline").
 * Membership is the bus's, so `client_count` and `partner_language` count every process. Each
 * final is translated once per listener language of the whole room (not once per listener), by the
 * speaker's process, and spoken once per language; every participant gets it in their own
 * language with `is_mine`; translated speech goes to the listeners, not the speaker, one utterance
 * at a time. Interims stay with the speaker. The events of other processes arrive through the bus.
 */
export class ConversationRoom {
  private readonly seats = new Map<string, Seat>();
  private readonly speakers = new Map<string, SpeechSequencer>();
  private readonly subscription: Promise<RoomUnsubscribe>;
  /** Translation once per language and speech once per language, in order (the room core). */
  private readonly fanOut: RoomFanOut;
  private readonly log: (err: unknown, message: string) => void;

  constructor(
    readonly conversationId: string,
    private readonly engines: Engines,
    private readonly bus: RoomBus = new MemoryRoomBus(),
    private readonly options: ConversationRoomOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.fanOut = new RoomFanOut(engines, { voice: options.voice ?? 'female', sampleRateHz: ROOM_SAMPLE_RATE_HZ, log: this.log });
    this.subscription = bus.subscribe(conversationId, (event) => this.receive(event));
    this.subscription.catch(() => undefined); // reported by the first join
  }

  /** Participants connected to this process. */
  get size(): number {
    return this.seats.size;
  }

  /**
   * Adds a participant: it learns its partner's language (the longest-present other participant),
   * those already there learn its language, everyone learns the new count.
   * @throws {import('../domain/conversations.js').ConversationStoreUnavailableError} when the
   * shared store is unreachable (the participant is not in the room then).
   */
  async join(p: RoomParticipant): Promise<void> {
    const joining = this.subscription.then(() => this.bus.join(this.conversationId, { id: p.id, language: p.language }));
    const seat: Seat = { p, joined: joining.catch(() => undefined), early: [], seen: 0 };
    this.seats.set(p.id, seat);
    let result: RoomJoin;
    try {
      result = await joining;
    } catch (err) {
      if (this.seats.get(p.id) === seat) this.seats.delete(p.id);
      throw err;
    }
    if (this.seats.get(p.id) !== seat) return; // left while joining
    const partner = result.others[0];
    if (partner) p.sendJson({ type: 'partner_language', lang: partner.language });
    const early = seat.early ?? [];
    seat.early = undefined;
    // Those already here learn the newcomer's language too (an addition to spec 003's messages).
    this.membership({ type: 'joined', member: { id: p.id, language: p.language }, count: result.count, version: result.version });
    for (const e of early) this.tell(seat, e);
  }

  /** Removes a participant and tells everyone in the room. */
  async leave(p: RoomParticipant): Promise<void> {
    const seat = this.seats.get(p.id);
    if (!seat) return;
    this.seats.delete(p.id);
    if (!(await seat.joined)) return;
    try {
      const result = await this.bus.leave(this.conversationId, p.id);
      if (result) this.membership({ type: 'left', memberId: p.id, count: result.count, version: result.version });
    } catch (err) {
      this.log(err, 'conversation leave failed');
    }
  }

  /** Sends an interim transcript to its speaker only (spec 003: "interim transcripts back to the speaker"). */
  interim(speaker: RoomParticipant, text: string): void {
    speaker.sendJson({ is_mine: true, is_interim: true, original: text, translation: '' });
  }

  /**
   * Delivers a final to every participant of the room in their language, then speaks it to the
   * listeners of each other language. Failures of one language are logged and do not stop the
   * others.
   */
  async deliver(speaker: RoomParticipant, final: RoomFinal): Promise<void> {
    let members: RoomMember[];
    try {
      members = await this.bus.members(this.conversationId);
    } catch (err) {
      this.log(err, 'conversation members unavailable; delivering to this process only');
      members = [...this.seats.values()].map(({ p }) => ({ id: p.id, language: p.language }));
    }
    if (!members.some((m) => m.id === speaker.id)) members.push({ id: speaker.id, language: speaker.language });
    const groups = listenerLanguages(members);
    const languages = [...groups.values()].map((g) => g.language);
    const utterance = { utteranceId: final.utteranceId, text: final.text, sourceLanguage: speaker.language };
    const translations = await this.fanOut.translate(utterance, languages, (language, translation) => this.emit({
      type: 'final', language: language.key, speakerId: speaker.id, utteranceId: final.utteranceId,
      original: final.text, translation, latencyMs: Math.max(0, Date.now() - final.speechEndWallMs),
    }));
    // Speech is only published when a listener of the language is served by another process.
    const remote = (key: string): boolean => (groups.get(key)?.members ?? []).some((m) => m.id !== speaker.id && !this.seats.has(m.id));
    const streamId = (key: string): string => `${final.utteranceId}:${key}`;
    await this.fanOut.speak(translations, this.fanOut.spokenLanguages(speaker.language, languages), {
      speech: (language, pcm) => this.emit({ type: 'speech', language: language.key, streamId: streamId(language.key), speakerId: speaker.id, pcm }, remote(language.key)),
      end: (language) => this.emit({ type: 'speech-end', language: language.key, streamId: streamId(language.key) }, remote(language.key)),
    });
  }

  /** Sends `message` to every participant connected to this process. */
  broadcast(message: object): void {
    for (const { p } of this.seats.values()) p.sendJson(message);
  }

  /** Stops receiving the room's events (after its last local participant left). */
  async close(): Promise<void> {
    for (const s of this.speakers.values()) s.close();
    this.speakers.clear();
    const unsubscribe = await this.subscription.catch(() => undefined);
    await unsubscribe?.();
  }

  /** Hands an event of this process to its own participants and to the other processes. */
  private emit(event: RoomEvent, publish = true): void {
    this.receive(event);
    if (publish) this.bus.publish(this.conversationId, event);
  }

  /** Delivers an event (of this process or another) to this process's participants. */
  private receive(event: RoomEvent): void {
    switch (event.type) {
      case 'joined':
      case 'left':
        return this.membership(event);
      case 'final':
        for (const { p, early } of this.seats.values()) {
          if (early || primaryLanguage(p.language) !== event.language) continue;
          p.sendJson({
            is_mine: p.id === event.speakerId, is_interim: false, original: event.original, translation: event.translation,
            utterance_id: event.utteranceId, latency_ms: event.latencyMs,
          });
        }
        return;
      case 'speech':
        return this.sequencer(event.language).push(event.streamId, event.speakerId, event.pcm);
      case 'speech-end':
        return this.sequencer(event.language).end(event.streamId);
    }
  }

  /** Tells every local participant about a membership change, unless it knows a newer state. */
  private membership(event: RoomMembershipEvent): void {
    for (const seat of this.seats.values()) {
      if (seat.early) seat.early.push(event);
      else this.tell(seat, event);
    }
  }

  private tell(seat: Seat, event: RoomMembershipEvent): void {
    if (event.version <= seat.seen) return;
    seat.seen = event.version;
    if (event.type === 'joined') {
      if (event.member.id !== seat.p.id) seat.p.sendJson({ type: 'partner_language', lang: event.member.language });
      seat.p.sendJson({ type: 'user_joined', client_count: event.count });
    } else {
      seat.p.sendJson({ type: 'user_left', client_count: event.count });
    }
  }

  /** The speech player of one language (primary subtag). */
  private sequencer(language: string): SpeechSequencer {
    let s = this.speakers.get(language);
    if (!s) {
      s = new SpeechSequencer((speakerId, pcm) => {
        for (const { p, early } of this.seats.values()) {
          if (!early && p.id !== speakerId && primaryLanguage(p.language) === language) p.sendAudio(pcm);
        }
      }, this.options.speechStallMs);
      this.speakers.set(language, s);
    }
    return s;
  }
}

/** The live rooms of this process, by conversation id; a room goes away with its last local participant. */
export class ConversationRooms {
  private readonly rooms = new Map<string, ConversationRoom>();

  constructor(private readonly create: (conversationId: string) => ConversationRoom) {}

  /** The room of a conversation, opened when its first local participant arrives. */
  open(conversationId: string): ConversationRoom {
    let room = this.rooms.get(conversationId);
    if (!room) {
      room = this.create(conversationId);
      this.rooms.set(conversationId, room);
    }
    return room;
  }

  /** Drops the room when nobody is left in it here. */
  async release(room: ConversationRoom): Promise<void> {
    if (room.size > 0 || this.rooms.get(room.conversationId) !== room) return;
    this.rooms.delete(room.conversationId);
    await room.close();
  }
}
