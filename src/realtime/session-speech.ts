/**
 * The translated speech of a platform session's streams in this process, fanned out to whoever
 * listens in the session (a phone callee, docs/phone.md "Twilio"). Each stream of the session
 * publishes the speech it synthesizes as it comes out of its worker; a listener receives it at once,
 * synchronously, and must not block: the hub holds nothing, so a slow listener bounds its own
 * buffer (the Media Stream socket's `maxBufferedBytes`). Per process: a stream on another gateway
 * is not heard.
 */

/** One block of synthesized speech of a session's stream. */
export interface SessionSpeech {
  /** The participant whose stream synthesized it (`usr_…`, `phone:CA…`). */
  participantId: string;
  /** BCP-47 tag of the speech: the stream's target language. */
  language: string;
  /** s16le mono. */
  pcm: Buffer;
  sampleRateHz: number;
}

/** Receives a session's speech; must return quickly and never throw. */
export type SessionSpeechListener = (speech: SessionSpeech) => void;

/** Listeners per session; publishing to a session nobody listens to costs one map lookup. */
export class SessionSpeechHub {
  private readonly listeners = new Map<string, Set<SessionSpeechListener>>();

  /**
   * Starts delivering `sessionId`'s speech to `listener`.
   * @returns the function that stops it (idempotent).
   */
  subscribe(sessionId: string, listener: SessionSpeechListener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.listeners.get(sessionId);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Hands a block to the session's listeners now; a listener that throws is skipped. */
  publish(sessionId: string, speech: SessionSpeech): void {
    const set = this.listeners.get(sessionId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(speech);
      } catch {
        // A listener's failure is its own; the speaker's stream goes on.
      }
    }
  }

  /** Listeners of a session (tests, metrics). */
  listenerCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0;
  }
}
