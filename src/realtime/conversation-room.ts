import type { Engines } from '../providers/registry.js';
import { primaryLanguage } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';
import { synthesizePcm, translateWithGlossary } from '../pipeline/translate-speak.js';

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

/**
 * One conversation's live participants and its fan-out (spec 003 Flow 2, DESIGN §3): each final is
 * translated once per listener language (not once per listener) and spoken once per language;
 * every participant gets it in their own language with `is_mine`; translated speech goes to the
 * listeners, not the speaker. Speech of consecutive finals is never interleaved for a listener.
 * Process-local: with several gateways the fan-out moves to Redis pub/sub (scale-out).
 */
export class ConversationRoom {
  private readonly participants = new Map<string, RoomParticipant>();
  private speech: Promise<void> = Promise.resolve();

  constructor(
    readonly conversationId: string,
    private readonly engines: Engines,
    private readonly voice: VoiceName = 'female',
    private readonly log: (err: unknown, message: string) => void = () => undefined,
  ) {}

  get size(): number {
    return this.participants.size;
  }

  /** Adds a participant: it learns its partner's language, everyone learns the new count. */
  join(p: RoomParticipant): void {
    const others = [...this.participants.values()];
    this.participants.set(p.id, p);
    const partner = others[0];
    if (partner) p.sendJson({ type: 'partner_language', lang: partner.language });
    // Those already there learn the newcomer's language too (an addition to spec 003's messages).
    for (const o of others) o.sendJson({ type: 'partner_language', lang: p.language });
    this.broadcast({ type: 'user_joined', client_count: this.participants.size });
  }

  /** Removes a participant and tells the others. */
  leave(p: RoomParticipant): void {
    if (!this.participants.delete(p.id)) return;
    this.broadcast({ type: 'user_left', client_count: this.participants.size });
  }

  /** Sends an interim transcript to its speaker only (spec 003: "interim transcripts back to the speaker"). */
  interim(speaker: RoomParticipant, text: string): void {
    speaker.sendJson({ is_mine: true, is_interim: true, original: text, translation: '' });
  }

  /**
   * Delivers a final to every participant in their language, then speaks it to the listeners of
   * each other language. Failures of one language are logged and do not stop the others.
   */
  async deliver(speaker: RoomParticipant, final: RoomFinal): Promise<void> {
    const byLanguage = new Map<string, { tag: string; members: RoomParticipant[] }>();
    for (const p of this.participants.values()) {
      const key = primaryLanguage(p.language);
      const group = byLanguage.get(key) ?? { tag: p.language, members: [] };
      group.members.push(p);
      byLanguage.set(key, group);
    }
    const translations = new Map<string, string>();
    await Promise.all([...byLanguage].map(async ([key, group]) => {
      let translation = final.text;
      try {
        translation = await translateWithGlossary(this.engines.mt, final.text, speaker.language, group.tag, []);
      } catch (err) {
        this.log(err, 'conversation translation failed');
      }
      translations.set(key, translation);
      const latencyMs = Math.max(0, Date.now() - final.speechEndWallMs);
      for (const p of group.members) {
        p.sendJson({
          is_mine: p.id === speaker.id, is_interim: false, original: final.text, translation,
          utterance_id: final.utteranceId, latency_ms: latencyMs,
        });
      }
    }));
    const speakerLanguage = primaryLanguage(speaker.language);
    const voices = new Set(this.engines.tts.capabilities.languages.map(primaryLanguage));
    const spoken = [...byLanguage].filter(([key]) => key !== speakerLanguage && voices.has(key));
    const run = this.speech.then(async () => {
      for (const [key, group] of spoken) {
        const text = translations.get(key) ?? '';
        const listeners = group.members.filter((p) => p.id !== speaker.id);
        try {
          for await (const pcm of synthesizePcm(this.engines.tts, text, { language: group.tag, voice: this.voice, sampleRateHz: ROOM_SAMPLE_RATE_HZ })) {
            for (const p of listeners) p.sendAudio(pcm);
          }
        } catch (err) {
          this.log(err, 'conversation speech synthesis failed');
        }
      }
    });
    this.speech = run.catch(() => undefined);
    await run;
  }

  /** Sends `message` to every participant. */
  broadcast(message: object): void {
    for (const p of this.participants.values()) p.sendJson(message);
  }
}

/** The live rooms of this process, by conversation id; a room goes away with its last participant. */
export class ConversationRooms {
  private readonly rooms = new Map<string, ConversationRoom>();

  constructor(private readonly create: (conversationId: string) => ConversationRoom) {}

  /** The room of a conversation, opened when its first participant arrives. */
  open(conversationId: string): ConversationRoom {
    let room = this.rooms.get(conversationId);
    if (!room) {
      room = this.create(conversationId);
      this.rooms.set(conversationId, room);
    }
    return room;
  }

  /** Drops the room when nobody is left in it. */
  release(room: ConversationRoom): void {
    if (room.size === 0 && this.rooms.get(room.conversationId) === room) this.rooms.delete(room.conversationId);
  }
}
