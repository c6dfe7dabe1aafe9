import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { KeyPrincipal, Role } from '../../domain/api-keys.js';
import { recordAudit } from '../../domain/audit.js';
import { escalateSession } from '../../domain/escalations.js';
import { organizationsOf, roleInOrganization } from '../../domain/memberships.js';
import { reserveSessionKey } from '../../domain/session-keys.js';
import {
  createSession, findParticipant, findSession, listActiveSessions, listSessions, revokeParticipant,
  sessionDurationSeconds, sessionLanguageProblem, type SessionRecord,
} from '../../domain/sessions.js';
import { AppError } from '../../errors.js';
import { listRoomParticipants, mintRoomToken, removeRoomParticipant } from '../../integrations/livekit.js';
import { InterpreterCapacityError, sessionInterpreterSpec } from '../../transports/livekit/interpreter-manager.js';
import type { InterpreterSpec } from '../../transports/livekit/room-interpreter.js';
import { escalationMessage, postSlackMessage } from '../../integrations/slack.js';
import { isLanguageTag } from '../../common/language-tags.js';
import { supportedPairs } from '../../providers/registry.js';
import { principalOf, roleAtLeast } from './auth.js';
import { errorResponses, idParams, successResponse } from './schemas.js';
import { publicOrigin, webSocketOrigin } from '../public-url.js';

const createBody = z.object({
  source_lang: z.string().trim().min(1).max(35).describe('BCP-47 language of the speaker, e.g. "en" or "en-US"'),
  target_lang: z.string().trim().min(1).max(35).describe('BCP-47 language of the translation, e.g. "es" or "es-MX"'),
  speaker_name: z.string().trim().min(1).max(200).optional().describe('Display name shown in transcripts (default "Speaker")'),
  organization_id: z.string().min(1).max(100).optional().describe("Target organization: the key's own or one it is a member of"),
});
const created = z.object({
  sessionId: z.string(),
  roomToken: z.string().describe('LiveKit access token for the room named after the session'),
  liveKitUrl: z.string(),
  participantId: z.string().describe('usr_…: the creator, first participant of the session'),
  streamUrl: z.string().describe("ws(s):// URL of Tolk's /vt stream, usable without LiveKit"),
  streamToken: z.string().describe('vt_ key of this session and participant for /vt (authorization=api-key <streamToken>)'),
});
const orgQuery = { organization_id: z.string().min(1).max(100).optional().describe("Organization to list (default: the key's own)") };
const listQuery = z.object({
  // Spec 000 says "max 100": a larger limit is capped, not refused; a negative offset is an invalid parameter (400).
  limit: z.coerce.number().int().default(20).transform((n) => Math.min(100, Math.max(1, n))).describe('Max results (default 20; capped to 1–100)'),
  offset: z.coerce.number().int().min(0).default(0).describe('Results to skip (default 0; negative is 400)'),
  ...orgQuery,
});
const listedSession = z.object({
  id: z.string(),
  status: z.enum(['created', 'active', 'completed']),
  source_lang: z.string(),
  target_lang: z.string(),
  started_at: z.string().describe('When the first stream started; the creation time while none has (status created)'),
  ended_at: z.string().nullable().describe('When the session completed; null until then'),
  duration_seconds: z.number().int().describe('ended_at (or now) − started_at; 0 before the first stream'),
});
const activeSession = z.object({
  id: z.string(),
  status: z.literal('active'),
  source_lang: z.string(),
  target_lang: z.string(),
  started_at: z.string().describe('When the first stream started; the creation time while none has'),
  participants: z.array(z.object({ user_id: z.string(), role: z.enum(['owner', 'admin', 'member']) })),
});
const revokeParams = z.object({ id: z.string().min(1).max(100), participantId: z.string().min(1).max(100) });
const escalateBody = z.object({ reason: z.string().trim().max(2000).optional().describe('Escalation reason (stored in the audit log)') }).nullish();

/**
 * The organization a request acts in: the key's own, or `organizationId` when the key belongs to it
 * (a `memberships` row), with the key's role there.
 * @throws {AppError} FORBIDDEN when the key does not belong to `organizationId`.
 */
async function actingOrganization(ctx: AppContext, principal: KeyPrincipal, organizationId: string | undefined): Promise<{ id: string; role: Role }> {
  const id = organizationId ?? principal.organizationId;
  const role = await roleInOrganization(ctx.db, principal, id);
  if (!role) throw new AppError('FORBIDDEN', `This API key does not belong to organization ${id}`);
  return { id, role };
}

/**
 * A session of any organization the key belongs to, with the key's role there.
 * @throws {AppError} NOT_FOUND for an unknown session or another organization's.
 */
export async function visibleSession(ctx: AppContext, principal: KeyPrincipal, sessionId: string): Promise<{ session: SessionRecord; role: Role }> {
  const orgs = await organizationsOf(ctx.db, principal);
  const session = await findSession(ctx.db, [...orgs.keys()], sessionId);
  const role = session ? orgs.get(session.organizationId) : undefined;
  if (!session || !role) throw new AppError('NOT_FOUND', `Session ${sessionId} not found`);
  return { session, role };
}

/** `ws(s)://<public origin>/vt` (`TOLK_PUBLIC_URL`, else the origin the request reached: {@link publicOrigin}). */
function streamUrlOf(ctx: AppContext, request: FastifyRequest): string {
  return `${webSocketOrigin(publicOrigin(ctx.config, request))}/vt`;
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

/**
 * Readies a new session's room for its interpreter when LiveKit is configured (docs/rooms.md "How
 * the interpreter joins"): the room is created now, the interpreter joins with the first
 * participant. A LiveKit server that cannot be reached does not fail the session (its `/vt` stream
 * still works): it is logged.
 */
async function prepareRoom(ctx: AppContext, spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
  if (!ctx.config.liveKit.configured) return;
  try {
    await ctx.interpreterDispatch.prepare(spec, log);
  } catch (err) {
    log.error({ err, room: spec.roomName }, 'the session room could not be created');
  }
}

/**
 * Refuses a new session while this process runs `TOLK_MAX_INTERPRETERS` interpreters (docs/rooms.md "Limits").
 * @throws {AppError} RATE_LIMITED naming the setting.
 */
function checkInterpreterCapacity(ctx: AppContext): void {
  if (!ctx.config.liveKit.configured) return;
  try {
    ctx.interpreterDispatch.checkCapacity();
  } catch (err) {
    if (err instanceof InterpreterCapacityError) throw new AppError('RATE_LIMITED', err.message);
    throw err;
  }
}

/**
 * The identities of the people in a session's LiveKit room (the interpreter excluded), or
 * undefined when LiveKit is not configured, cannot be reached, or nobody is in the room (a session
 * streamed over `/vt` only): the caller then lists the session's participants as recorded.
 */
async function participantsInRoom(ctx: AppContext, roomName: string, log: FastifyBaseLogger): Promise<Set<string> | undefined> {
  if (!ctx.config.liveKit.configured) return undefined;
  try {
    const people = (await listRoomParticipants(ctx.config.liveKit, roomName)).filter((p) => !p.agent);
    return people.length > 0 ? new Set(people.map((p) => p.identity)) : undefined;
  } catch (err) {
    log.warn({ err, roomName }, 'LiveKit could not list the room participants');
    return undefined;
  }
}

/**
 * Sessions of spec 000 ("Sessions", "Active Session Management"): create (LiveKit room token and a
 * `/vt` stream token), list, list active, revoke a participant (owner/admin), escalate to the
 * human-interpreter queue. Another organization's session answers 404. See docs/sessions.md.
 */
export async function sessionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/sessions', {
    schema: { tags: ['sessions'], summary: 'Create a real-time translation session', body: createBody, response: { 200: created, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const { source_lang: sourceLang, target_lang: targetLang } = request.body;
    if (!isLanguageTag(sourceLang)) throw new AppError('BAD_REQUEST', `Invalid source_lang "${sourceLang}": use a BCP-47 tag such as "en" or "en-US"`);
    if (!isLanguageTag(targetLang)) throw new AppError('BAD_REQUEST', `Invalid target_lang "${targetLang}": use a BCP-47 tag such as "es" or "es-MX"`);
    const problem = sessionLanguageProblem(supportedPairs(ctx.engines), sourceLang, targetLang);
    if (problem) throw new AppError('BAD_REQUEST', problem);
    const org = await actingOrganization(ctx, principal, request.body.organization_id);
    checkInterpreterCapacity(ctx);
    const speakerName = request.body.speaker_name ?? 'Speaker';
    const ttlS = ctx.config.sessionKeyTtlMaxS;
    // The streamToken's place under the key's session-key limit is taken before the session exists.
    const stream = await reserveSessionKey(ctx.sessionKeys, principal, ttlS);
    if (!stream) throw new AppError('RATE_LIMITED', `Too many live session keys: this API key already holds ${ctx.sessionKeys.maxPerKey} (stream tokens and session keys); wait until some expire`);
    const { session, participantId } = await createSession(ctx.db, {
      organizationId: org.id, createdByKeyId: principal.keyId, sourceLang, targetLang, speakerName, creatorRole: org.role, mode: principal.mode,
    });
    const roomToken = await mintRoomToken(ctx.config.liveKit, { room: session.roomName, identity: participantId, name: speakerName, ttlS: ctx.config.roomTokenTtlS });
    await stream.activate({ organizationId: org.id, sessionId: session.id, participantId });
    await prepareRoom(ctx, sessionInterpreterSpec(session, participantId, principal, { voiceType: 'clone', labelSpeakers: true }), request.log);
    return {
      sessionId: session.id, roomToken, liveKitUrl: ctx.config.liveKit.url, participantId,
      streamUrl: streamUrlOf(ctx, request), streamToken: stream.sessionKey,
    };
  });

  r.get('/sessions', {
    schema: {
      tags: ['sessions'], summary: "List the organization's sessions, newest first", querystring: listQuery,
      response: { 200: z.object({ sessions: z.array(listedSession), total: z.number().int() }), ...errorResponses },
    },
  }, async (request) => {
    const org = await actingOrganization(ctx, principalOf(request), request.query.organization_id);
    const page = await listSessions(ctx.db, org.id, { limit: request.query.limit, offset: request.query.offset });
    const now = new Date();
    return {
      sessions: page.sessions.map((s) => ({
        id: s.id, status: s.status, source_lang: s.sourceLang, target_lang: s.targetLang,
        started_at: (s.startedAt ?? s.createdAt).toISOString(), ended_at: iso(s.endedAt), duration_seconds: sessionDurationSeconds(s, now),
      })),
      total: page.total,
    };
  });

  r.get('/sessions/active', {
    schema: {
      tags: ['sessions'], summary: "List the organization's active sessions with their participants", querystring: z.object(orgQuery),
      response: { 200: z.object({ sessions: z.array(activeSession) }), ...errorResponses },
    },
  }, async (request) => {
    const org = await actingOrganization(ctx, principalOf(request), request.query.organization_id);
    const active = await listActiveSessions(ctx.db, org.id);
    const present = await Promise.all(active.map(({ session }) => participantsInRoom(ctx, session.roomName, request.log)));
    return {
      sessions: active.map(({ session: s, participants }, i) => ({
        id: s.id, status: 'active' as const, source_lang: s.sourceLang, target_lang: s.targetLang, started_at: (s.startedAt ?? s.createdAt).toISOString(),
        participants: participants.filter((p) => present[i]?.has(p.userId) ?? true).map((p) => ({ user_id: p.userId, role: p.role })),
      })),
    };
  });

  r.post('/sessions/:id/revoke/:participantId', {
    schema: {
      tags: ['sessions'], summary: 'Remove a participant from a session (owner/admin)', params: revokeParams,
      response: { 200: successResponse, ...errorResponses },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const { id, participantId } = request.params;
    const { session, role } = await visibleSession(ctx, principal, id);
    if (!roleAtLeast(role, 'admin')) throw new AppError('FORBIDDEN', `Revoking a participant requires the admin role or higher; this key's role is ${role}`);
    const participant = await findParticipant(ctx.db, session.id, participantId);
    if (!participant) throw new AppError('NOT_FOUND', `Participant ${participantId} not found in session ${session.id}`);
    if (session.status === 'completed') throw new AppError('CONFLICT', `Session ${session.id} is already completed`);
    await revokeParticipant(ctx.db, session.id, participantId);
    const disconnected = await ctx.sessions.disconnectParticipant(session.id, participantId);
    if (ctx.config.liveKit.configured) {
      try {
        await removeRoomParticipant(ctx.config.liveKit, session.roomName, participantId);
      } catch (err) {
        request.log.warn({ err, sessionId: session.id }, 'LiveKit could not remove the revoked participant');
      }
    }
    await recordAudit(ctx.db, {
      organizationId: session.organizationId, actorKeyId: principal.keyId, action: 'session.participant_revoked', targetId: participantId,
      detail: { sessionId: session.id, disconnectedStreams: disconnected },
    });
    return { success: true as const };
  });

  r.post('/sessions/:id/escalate', {
    schema: {
      tags: ['sessions'], summary: 'Escalate a session to the human-interpreter queue', params: idParams, body: escalateBody,
      response: { 200: z.object({ escalationId: z.string(), queuePosition: z.number().int() }), ...errorResponses },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const { session } = await visibleSession(ctx, principal, request.params.id);
    if (session.status === 'completed') throw new AppError('CONFLICT', `Session ${session.id} is already completed`);
    const reason = request.body?.reason || undefined;
    const escalation = await escalateSession(ctx.db, { organizationId: session.organizationId, sessionId: session.id, reason, createdByKeyId: principal.keyId });
    await recordAudit(ctx.db, {
      organizationId: session.organizationId, actorKeyId: principal.keyId, action: 'session.escalated', targetId: escalation.id,
      detail: { sessionId: session.id, reason: reason ?? null, queuePosition: escalation.queuePosition },
    });
    const webhook = ctx.config.slackWebhookUrl;
    if (webhook) {
      const text = escalationMessage({ sessionId: session.id, queuePosition: escalation.queuePosition, reason });
      postSlackMessage(webhook, text).catch((err: unknown) => request.log.warn({ err, sessionId: session.id }, 'Slack escalation notification failed'));
    }
    return { escalationId: escalation.id, queuePosition: escalation.queuePosition };
  });
}
