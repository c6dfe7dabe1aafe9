import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { getCallSessionById, sessionPrincipal, type StoredCallSession } from '../../domain/calls/sessions.js';
import { addRecording, listRecordings, type CallRecordingRow } from '../../domain/calls/transcript.js';
import { isoSeconds, sessionWebhookEventTypes } from '../../domain/calls/webhooks.js';
import type { ChatModel } from '../../providers/llm/types.js';
import { CallRoom, type CallParticipant } from './call-room.js';
import { clearCallLive, markCallLive, wasLiveHere } from './interrupted-calls.js';
import { finishRecording, recordingsDir, type FinishedRecording } from './recordings.js';

/** Why a participant could not join: the status, the vendor error code and a description. */
export interface JoinRefusal {
  ok: false;
  status: number;
  code: string;
  description: string;
}

/** What {@link CallRooms} needs of the calls service. */
export interface CallRoomsOwner {
  /** The session became active (`session.started` once). */
  markActive(sessionId: string): Promise<unknown>;
  emit(session: StoredCallSession, type: 'recording.ready' | 'recording.failed', data: Record<string, unknown>): Promise<void>;
  /** The chat model of the AI agent modes; undefined when no `llm` engine is configured. */
  readonly llm: ChatModel | undefined;
}

/**
 * The live calls of this process, one {@link CallRoom} per session with participants. A room is
 * made at the first join and ends with its session; when its last participant leaves, its leg
 * streams are given back (slots, workers) until audio comes again. Participants of one session
 * must reach the same gateway (docs/calls.md "Scaling").
 */
export class CallRooms {
  private readonly rooms = new Map<string, Promise<CallRoom | JoinRefusal>>();

  constructor(private readonly ctx: () => AppContext, private readonly owner: CallRoomsOwner, private readonly log: FastifyBaseLogger) {}

  /**
   * Joins `participant` to the session's call and marks the session active.
   * @returns the room, or a refusal: 404 unknown session, 409 ended, 401 when the API key that
   *   created the session was deleted.
   */
  async join(sessionId: string, participant: CallParticipant): Promise<{ ok: true; room: CallRoom } | JoinRefusal> {
    let pending = this.rooms.get(sessionId);
    if (!pending) {
      pending = this.open(sessionId);
      this.rooms.set(sessionId, pending);
    }
    const room = await pending;
    if (!(room instanceof CallRoom)) {
      if (this.rooms.get(sessionId) === pending) this.rooms.delete(sessionId);
      return room;
    }
    if (room.isRevoked) return { ok: false, status: 401, code: 'revoked_api_key', description: 'The API key that created this session was rotated or deleted' };
    room.join(participant);
    await this.owner.markActive(sessionId);
    return { ok: true, room };
  }

  /** Detaches `participant`; the last one out gives the leg streams back. */
  async leave(room: CallRoom, participant: CallParticipant): Promise<void> {
    room.leave(participant);
    if (room.size === 0) await room.idle();
  }

  /** The room of a session, when live in this process. */
  async get(sessionId: string): Promise<CallRoom | undefined> {
    const room = await this.rooms.get(sessionId);
    return room instanceof CallRoom ? room : undefined;
  }

  /**
   * Ends a session's room (its session ended): participants are told, the recording is written and
   * listed, `recording.ready` (or `recording.failed`) is sent. A session with no room here that a
   * previous process left live in this data dir gets its recording finished from the raw leg files
   * (docs/calls.md "Restarts").
   */
  async end(session: StoredCallSession, reason: string): Promise<void> {
    const room = await this.get(session.id);
    this.rooms.delete(session.id);
    if (room) this.ctx().sessions.connections.removeKeyStream(room.keyId, room);
    if (!room) {
      await this.finishInterrupted(session);
      return;
    }
    let finished: FinishedRecording | undefined;
    try {
      finished = await room.end(reason);
    } catch (err) {
      this.log.error({ err, sessionId: session.id }, 'writing the recording failed');
      await this.recordingFailed(session);
      return;
    }
    if (finished) await this.recordingReady(session, await this.listRecording(session, finished));
    clearCallLive(this.dir(), session.id);
  }

  /**
   * Finishes what a previous process left of an ended session's call: the recording from the raw leg
   * files (or `recording.failed` when none is left), and its event when it is missing. Idempotent.
   */
  async finishInterrupted(session: StoredCallSession): Promise<void> {
    const dir = this.dir();
    if (!wasLiveHere(dir, session.id)) return;
    if (session.recording.enabled) {
      const listed = (await listRecordings(this.ctx().db, session.id))[0];
      const sent = await sessionWebhookEventTypes(this.ctx().db, session.id);
      if (listed) {
        if (!sent.has('recording.ready')) await this.recordingReady(session, listed);
      } else {
        let finished: FinishedRecording | undefined;
        try {
          finished = finishRecording(dir, session.id, session.recording.channels);
        } catch (err) {
          this.log.error({ err, sessionId: session.id }, 'finishing an interrupted recording failed');
        }
        if (finished) await this.recordingReady(session, await this.listRecording(session, finished));
        else if (!sent.has('recording.failed')) await this.recordingFailed(session);
      }
    }
    clearCallLive(dir, session.id);
  }

  private dir(): string {
    return recordingsDir(this.ctx().config.dataDir);
  }

  private async listRecording(session: StoredCallSession, finished: FinishedRecording): Promise<CallRecordingRow> {
    return addRecording(this.ctx().db, {
      sessionId: session.id, organizationId: session.organizationId, channel: session.recording.channels === 'dual' ? 'dual' : 'mixed',
      status: 'ready', format: 'wav', channels: finished.channels, sampleRateHz: finished.sampleRateHz,
      durationMs: finished.durationMs, sizeBytes: finished.sizeBytes, path: finished.relativePath,
    });
  }

  private async recordingReady(session: StoredCallSession, rec: CallRecordingRow): Promise<void> {
    await this.owner.emit(session, 'recording.ready', {
      id: rec.id, object: 'recording', session_id: session.id, channel: rec.channel, status: rec.status, duration: rec.durationMs / 1000,
      format: rec.format, size: rec.sizeBytes, download_url: `/v1/recordings/${rec.id}/audio`, created_at: isoSeconds(rec.createdAt),
    });
  }

  private async recordingFailed(session: StoredCallSession): Promise<void> {
    await this.owner.emit(session, 'recording.failed', { object: 'recording', session_id: session.id, status: 'failed' });
  }

  /**
   * Ends every room (server shutdown): the sessions stay as they are, recordings in progress are
   * kept on disk, and the next start resumes or ends them (docs/calls.md "Restarts").
   */
  async close(): Promise<void> {
    const rooms = await Promise.all([...this.rooms.values()]);
    this.rooms.clear();
    for (const r of rooms) if (r instanceof CallRoom) this.ctx().sessions.connections.removeKeyStream(r.keyId, r);
    await Promise.all(rooms.map((r) => (r instanceof CallRoom ? r.suspend() : undefined)));
  }

  private async open(sessionId: string): Promise<CallRoom | JoinRefusal> {
    const ctx = this.ctx();
    const session = await getCallSessionById(ctx.db, sessionId);
    if (!session) return { ok: false, status: 404, code: 'session_not_found', description: `No such session: '${sessionId}'` };
    if (session.status === 'ended') return { ok: false, status: 409, code: 'session_ended', description: `Session ${sessionId} has ended` };
    const principal = await sessionPrincipal(ctx.db, session);
    if (!principal) return { ok: false, status: 401, code: 'revoked_api_key', description: 'The API key that created this session was deleted' };
    markCallLive(this.dir(), session.id);
    const room = new CallRoom(ctx, session, principal, this.log, this.owner.llm);
    // Rotating or deleting the creator's key ends the call's sockets, listening ones included (docs/calls.md "Revocation").
    ctx.sessions.connections.addKeyStream(principal.keyId, room);
    return room;
  }
}
