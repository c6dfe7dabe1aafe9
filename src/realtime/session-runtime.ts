import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.js';
import { expireStreamTokensOfKey } from '../domain/calls/sessions.js';
import { glossaryTermsFor, type DictionaryTerm } from '../domain/glossary.js';
import { confirmGrant, type SessionBinding, type SessionKeyGrant } from '../domain/session-keys.js';
import { activeSessionIds, completeSessionsLeftActive, findParticipant, findSession, markParticipantJoined, markSessionActive, markSessionCompleted } from '../domain/sessions.js';
import { mergeDictionaries, type DictionaryEntry, type DictionarySource } from '../pipeline/glossary.js';
import { primaryLanguage } from '../common/language-tags.js';
import { LocalSessionPresence, type LiveConnection, type SessionPresence } from './connection-registry.js';
import { GlossaryCache } from './glossary-cache.js';
import { SessionSpeechHub } from './session-speech.js';
import { OrganizationStream, SessionStream, type AttachedStream, type StreamSettings } from './session-stream.js';

/** Glossary source words added to a stream's STT vocabulary, at most. */
const MAX_GLOSSARY_VOCABULARY = 500;

/** A `/vt` connection asking to start, after its config and key were validated. */
export interface AttachRequest {
  /** The resolved stream key: a principal, with a session binding for a session's `streamToken`. */
  grant: SessionKeyGrant;
  /** `source_language` / `target_language` of the config (BCP-47, already checked against the engines). */
  sourceLanguage: string;
  targetLanguage: string;
  /** `vocabulary` and `translation_dictionary` of the config. */
  vocabulary: readonly string[];
  dictionary: readonly DictionaryEntry[];
  /** `transcript.final` and `transcript.translate` of the config. */
  sendsFinals: boolean;
  sendsTranslations: boolean;
  /** How the runtime ends the connection (revocation). */
  connection: LiveConnection;
  log: FastifyBaseLogger;
}

/** The runtime's answer: the stream to run, or the error the connection must end with. */
export type AttachResult = { ok: true; stream: AttachedStream } | { ok: false; status: number; description: string };

/**
 * The transport-independent side of realtime streams (docs/architecture.md "Layout" `realtime/`): binds a `/vt`
 * connection to its organization (glossary as STT vocabulary and MT dictionary) and, for a session's
 * `streamToken`, to its platform session (spec 000): languages, participant checks, status
 * transitions, utterance and usage recording, and revocation. `/vt` calls it through
 * {@link SessionRuntime.attach} and the {@link AttachedStream} it returns.
 */
export class SessionRuntime {
  /** Live streams per session and participant: this process's, or every gateway's through Redis. */
  readonly connections: SessionPresence;
  /** The speech the session streams of this process synthesize, for the sessions' listeners. */
  readonly speech = new SessionSpeechHub();
  private readonly glossary: GlossaryCache;
  private readonly completedListeners = new Set<(sessionId: string) => void>();

  /**
   * @param deps.db - the database, read on each use (it may be replaced, e.g. in tests).
   * @param deps.glossaryTtlMs - how long a glossary read is reused, in ms (default 1000).
   * @param deps.presence - where live streams are counted and revoked (default: this process only).
   */
  constructor(private readonly deps: { db: () => Database; glossaryTtlMs?: number; presence?: SessionPresence }) {
    this.glossary = new GlossaryCache((org, s, t) => glossaryTermsFor(deps.db(), org, s, t), deps.glossaryTtlMs ?? 1000);
    this.connections = deps.presence ?? new LocalSessionPresence();
  }

  /**
   * Starts a stream. First the API key behind the grant must still stand (not deleted, not rotated
   * since the session key was issued), else 401; the stream is registered under it before that
   * check, so a rotation or deletion racing with the start still ends it. A key without a session
   * binding gets its organization's glossary. A session's key must name a session that still exists
   * (else 404), a participant not revoked (403), a session not completed (409) and the session's
   * languages (400); the session then becomes `active`.
   * @throws {Error} when the database fails (the connection answers 500).
   */
  async attach(req: AttachRequest): Promise<AttachResult> {
    const { keyId } = req.grant;
    this.connections.addKeyStream(keyId, req.connection);
    const forgetKey = (): void => this.connections.removeKeyStream(keyId, req.connection);
    try {
      if (!(await confirmGrant(this.deps.db(), req.grant))) {
        forgetKey();
        return { ok: false, status: 401, description: 'Invalid or expired API key: the API key behind it was rotated or deleted' };
      }
      const result = await this.attachStream(req, forgetKey);
      if (!result.ok) forgetKey();
      return result;
    } catch (err) {
      forgetKey();
      throw err;
    }
  }

  /**
   * Ends every live stream of an API key that was rotated or deleted, on every gateway — opened
   * with the key itself or with a session key or `streamToken` it issued: an `error` event 401, then
   * close 4401 (docs/stream-protocol.md "Revocation"); the stream tokens of the call sessions it
   * created expire (docs/calls.md "Revocation").
   * @returns how many live streams this process ended.
   * @throws {Error} when the database fails.
   */
  async disconnectKey(keyId: string, change: 'rotated' | 'deleted'): Promise<number> {
    // The stream tokens of the calls it created stop connecting first, so no socket slips in after the end.
    await expireStreamTokensOfKey(this.deps.db(), keyId);
    return this.connections.disconnectKey(keyId, 401, `Invalid API key: API key ${keyId} was ${change}; get a new session key with a current API key`);
  }

  /** {@link attach} once the key stands; `onClosed` runs when the stream closes. */
  private async attachStream(req: AttachRequest, onClosed: () => void): Promise<AttachResult> {
    const binding = req.grant.binding;
    if (!binding) {
      const settings = await this.settings(req, req.grant.organizationId, req.sourceLanguage, req.targetLanguage);
      return { ok: true, stream: new OrganizationStream({ ...settings, onClosed }) };
    }
    // Registered before the checks, so a revocation racing with them still reaches this connection.
    await this.connections.add(binding.sessionId, binding.participantId, req.connection);
    try {
      const result = await this.attachToSession(req, binding, onClosed);
      if (!result.ok) await this.release(binding.sessionId, req.connection, req.log);
      return result;
    } catch (err) {
      await this.release(binding.sessionId, req.connection, req.log);
      throw err;
    }
  }

  /**
   * Calls `listener` with the id of each session this process completes (its last stream closed,
   * or a sweep found it orphaned): a phone call into it is hung up (docs/phone.md).
   * @returns the function that stops the calls.
   */
  onSessionCompleted(listener: (sessionId: string) => void): () => void {
    this.completedListeners.add(listener);
    return () => void this.completedListeners.delete(listener);
  }

  private completed(sessionId: string): void {
    for (const listener of [...this.completedListeners]) listener(sessionId);
  }

  /**
   * Keeps a participant present in its session between its streams (a LiveKit speaker whose idle
   * stream was given back, docs/rooms.md): the session does not complete while the hold stands, and
   * revoking the participant reaches `connection`. Releasing the hold completes the session when it
   * was its last live one.
   * @returns the release (idempotent).
   */
  async hold(binding: SessionBinding, connection: LiveConnection, log: FastifyBaseLogger): Promise<() => Promise<void>> {
    await this.connections.add(binding.sessionId, binding.participantId, connection);
    let released: Promise<void> | undefined;
    return () => (released ??= this.release(binding.sessionId, connection, log));
  }

  /**
   * Ends a revoked participant's live streams at once, on every gateway: an `error` event 403, then
   * close 4403.
   * @returns how many live streams the participant had.
   */
  disconnectParticipant(sessionId: string, participantId: string): Promise<number> {
    return this.connections.disconnectParticipant(sessionId, participantId, 403, `Participant ${participantId} was revoked from session ${sessionId}`);
  }

  /**
   * Completes the `active` sessions no process streams any more: their last stream's gateway died
   * before it could complete them (its leases expired). Needs a presence that sees every process
   * (Redis); with a process-local one it does nothing. Sessions younger than a lease are skipped.
   * @returns the ids completed.
   * @throws {Error} when the database or Redis fails.
   */
  async completeOrphanedSessions(): Promise<string[]> {
    const ttl = this.connections.leaseTtlMs;
    if (ttl <= 0) return [];
    const completed: string[] = [];
    for (const id of await activeSessionIds(this.deps.db(), new Date(Date.now() - ttl))) {
      if ((await this.connections.liveCount(id)) !== 0) continue;
      await markSessionCompleted(this.deps.db(), id);
      completed.push(id);
      this.completed(id);
    }
    return completed;
  }

  /**
   * Completes every session left `active`, at the start of a process that owns its database alone
   * (no Redis: the embedded database, or Postgres without Redis — docs/sessions.md). Such a process
   * has no live stream yet, so an active session was left by a predecessor that died (kill -9,
   * power loss) before its streams could close.
   * @returns the ids completed.
   * @throws {Error} when the database fails.
   */
  completeSessionsLeftActive(): Promise<string[]> {
    return completeSessionsLeftActive(this.deps.db());
  }

  private async attachToSession(req: AttachRequest, binding: SessionBinding, onClosed: () => void): Promise<AttachResult> {
    const db = this.deps.db();
    const session = await findSession(db, [binding.organizationId], binding.sessionId);
    if (!session) return { ok: false, status: 404, description: `Session ${binding.sessionId} does not exist` };
    const participant = await findParticipant(db, session.id, binding.participantId);
    if (!participant || participant.revokedAt) {
      return { ok: false, status: 403, description: `Participant ${binding.participantId} was revoked from session ${session.id}` };
    }
    if (session.status === 'completed') return { ok: false, status: 409, description: `Session ${session.id} is completed; create a new session` };
    // A participant speaking the session's target language (a phone callee) is translated backwards.
    const [from, to] = binding.speaks === 'target' ? [session.targetLang, session.sourceLang] : [session.sourceLang, session.targetLang];
    const source = sessionLanguage(from, req.sourceLanguage);
    const target = sessionLanguage(to, req.targetLanguage);
    if (!source || !target) {
      return { ok: false, status: 400, description: `This session translates ${from} → ${to}; the config asks for ${req.sourceLanguage} → ${req.targetLanguage}` };
    }
    const settings = await this.settings(req, session.organizationId, source, target);
    await markSessionActive(db, session.id);
    await markParticipantJoined(db, session.id, participant.userId);
    const stream = new SessionStream({
      ...settings, db: this.deps.db, log: req.log, organizationId: session.organizationId, sessionId: session.id,
      participantId: participant.userId, speakerName: participant.speakerName,
      sendsFinals: req.sendsFinals, sendsTranslations: req.sendsTranslations,
      onSpeech: (pcm, sampleRateHz) => this.speech.publish(session.id, { participantId: participant.userId, language: target, pcm, sampleRateHz }),
      onClosed: async () => {
        onClosed();
        await this.release(session.id, req.connection, req.log);
      },
    });
    req.log.info({ sessionId: session.id, participantId: participant.userId }, 'session stream attached');
    return { ok: true, stream };
  }

  /** Forgets a connection; the session completes when it was its last live one. */
  private async release(sessionId: string, connection: LiveConnection, log: FastifyBaseLogger): Promise<void> {
    if ((await this.connections.remove(sessionId, connection)) > 0) return;
    try {
      await markSessionCompleted(this.deps.db(), sessionId);
      this.completed(sessionId);
    } catch (err) {
      log.error({ err, sessionId }, 'could not mark the session completed');
    }
  }

  /** Vocabulary and per-utterance dictionary of a stream of `organizationId`. */
  private async settings(req: AttachRequest, organizationId: string, source: string, target: string): Promise<StreamSettings> {
    const read = async (): Promise<DictionaryTerm[]> => {
      try {
        return await this.glossary.get(organizationId, source, target);
      } catch (err) {
        req.log.warn({ err, organizationId }, 'glossary read failed; the config dictionary alone applies');
        return [];
      }
    };
    const dictionary: DictionarySource = async () => mergeDictionaries(req.dictionary, await read());
    return { sourceLanguage: source, targetLanguage: target, vocabulary: withGlossaryWords(req.vocabulary, await read()), dictionary };
  }
}

/**
 * The tag a session-bound stream uses for one side: the config's tag must have the session's
 * primary language; a session tag with a region or script wins, a bare one (`en`) is refined by the
 * config's (`en-US`). Undefined when the languages differ.
 */
export function sessionLanguage(sessionTag: string, configTag: string): string | undefined {
  if (primaryLanguage(sessionTag) !== primaryLanguage(configTag)) return undefined;
  return sessionTag.includes('-') ? sessionTag : configTag;
}

/** The config's vocabulary plus the words of the glossary's source terms (lower case, deduplicated, bounded). */
export function withGlossaryWords(vocabulary: readonly string[], terms: readonly DictionaryTerm[]): string[] {
  const words = new Set(vocabulary);
  const lower = new Set(vocabulary.map((w) => w.toLowerCase()));
  let added = 0;
  for (const t of terms) {
    for (const w of t.source.toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
      if (!w || lower.has(w) || added >= MAX_GLOSSARY_VOCABULARY) continue;
      lower.add(w);
      words.add(w);
      added++;
    }
  }
  return [...words];
}
