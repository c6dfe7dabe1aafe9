import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateApiKey } from '../domain/api-keys.js';
import { resolveSessionKey, type SessionKeyGrant } from '../domain/session-keys.js';
import type { LiveConnection } from '../realtime/connection-registry.js';
import { buildLeg2Config, newRequestId } from '../realtime/leg2-config.js';
import type { AttachedStream } from '../realtime/session-stream.js';
import type { StreamSlot } from '../realtime/stream-slots.js';
import { WorkerRefusedError, type WorkerEvent, type WorkerLink, type WorkerLinkHandlers } from '../realtime/worker-link.js';
import { admitStream, type AdmittedStream } from './admission.js';
import { streamConfigProblem, type StreamConfig } from './stream-config.js';
import type { OrganizationEngines } from '../domain/admission.js';
import type { Engines } from '../providers/registry.js';
import type { StreamRequest } from '../core/stream-request.js';
import type { StreamOpening, StreamSessionDeps } from '../core/stream-session.js';

/**
 * Resolves a session key (from the token endpoint, or a platform session's `streamToken` with its
 * session binding) or an API key to its grant; undefined when unknown, expired, or when the API key
 * behind it was rotated or deleted.
 * @throws {Error} when the state store or the database fails.
 */
export async function resolveStreamKey(ctx: AppContext, key: string): Promise<SessionKeyGrant | undefined> {
  if (key.startsWith('vt_')) return resolveSessionKey(ctx.state, ctx.db, key);
  return authenticateApiKey(ctx.db, key);
}

/** What a transport asks the stream service for. */
export interface OpenStreamRequest {
  /** The credential the client presented (a session key or an API key), wherever the transport found it. */
  key: string | undefined;
  /** The stream config (spec 002 Part 1 `config`), parsed and defaulted. */
  config: StreamConfig;
  /** The transport's connection: what a revocation or a drain ends. */
  connection: LiveConnection;
  /**
   * Where the worker's typed events, synthesized audio and end go. An `utterance-end` is the
   * service's (latency marks to the session and the metrics) and is not passed on. A worker that
   * died (leg 2 dropped without a close of its own) arrives as an `error` event (500) then a close
   * with 4500.
   */
  handlers: WorkerLinkHandlers;
  /** False once the client has left: the service then undoes what it did and answers `gone`. */
  isOpen: () => boolean;
  log: FastifyBaseLogger;
}

/** An open stream: leg 2 on a worker, bound to its organization and platform session. */
export interface GatewayStream {
  readonly grant: SessionKeyGrant;
  /** The worker's leg 2 now: `sendAudio`, `backlogMs`, `drain` (another after {@link GatewayStream.replaceWorker}). */
  readonly link: WorkerLink;
  /**
   * Places the stream on another worker after its worker died or shut down (docs/architecture.md "Processes": a LiveKit
   * interpreter is re-placed): a new leg 2 with the same config, while the slot, the admission and
   * the platform session stay — the session does not complete in between.
   * @throws {WorkerRefusedError} when no worker has room; {@link Error} when the state store fails.
   */
  replaceWorker(): Promise<void>;
  /** The platform session the stream records into (finals and translations sent, usage). */
  readonly session: AttachedStream;
  /** Audio forwarded to the worker, `durationMs` long: the session's and the organization's usage. */
  audioReceived(durationMs: number): void;
  /**
   * The transport delivered `event` to its client: a final transcript or a translation is recorded
   * in the platform session now, so nothing a client saw is lost if a process dies.
   */
  delivered(event: WorkerEvent): void;
  /**
   * Ends the stream (idempotent): the worker may finish the utterance in flight for
   * `finishTimeoutMs`, then the session stream closes, the organization is charged and the slot freed.
   */
  close(finishTimeoutMs: number): Promise<void>;
}

/** The answer of {@link openStream}: the stream, a refusal for the client (its status and description), or `gone`. */
export type OpenStreamResult =
  | { ok: true; stream: GatewayStream }
  | { ok: false; status: number; description: string }
  | { ok: false; gone: true };

/** What a partly opened stream holds, undone in reverse when a later step fails. */
interface Held {
  slot?: StreamSlot;
  admitted?: AdmittedStream;
  session?: AttachedStream;
}

async function release(held: Held): Promise<void> {
  await held.session?.close();
  await held.admitted?.end();
  held.slot?.release();
}

/**
 * The stream service (docs/architecture.md "Processes", spec 002 Part 2 steps 1–4), one place for every transport that
 * carries a spec-002 stream: [1] authenticates the key; [2] checks the config against the engines,
 * takes a stream slot of the process (`TOLK_MAX_STREAMS`, the organization's share), admits the
 * stream for its organization (tier, balance, concurrency) and binds it to its platform session
 * (glossary, recording, revocation); [3] builds the leg-2 config (spec 002 Part 3, never sent to
 * the client); [4] opens leg 2 on a worker. A transport maps its wire format onto this and back.
 * @throws {Error} when the database or the state store fails (the transport answers 500).
 */
export async function openStream(ctx: AppContext, req: OpenStreamRequest): Promise<OpenStreamResult> {
  if (!req.key) return { ok: false, status: 401, description: 'Missing API key: pass authorization=api-key <SESSION_KEY> in the URL, an Authorization header, or api_key in the config' };
  const grant = await resolveStreamKey(ctx, req.key);
  if (!grant) return { ok: false, status: 401, description: 'Invalid or expired API key' };
  return openGrantedStream(ctx, grant, req);
}

/**
 * {@link openStream} for a transport that already holds a resolved grant (e.g. the LiveKit
 * interpreter, given the grant of the session it serves): steps [2]–[4]. The API key behind the
 * grant is still confirmed when the stream attaches to its session (401 when rotated or deleted).
 * @throws {Error} when the database or the state store fails (the transport answers 500).
 */
export async function openGrantedStream(ctx: AppContext, grant: SessionKeyGrant, req: Omit<OpenStreamRequest, 'key'>): Promise<OpenStreamResult> {
  const problem = streamConfigProblem(ctx.engines, req.config);
  if (problem) return { ok: false, status: 400, description: problem };

  const held: Held = {};
  const organizationId = grant.binding?.organizationId ?? grant.organizationId;
  const refuse = async (status: number, description: string): Promise<OpenStreamResult> => {
    await release(held);
    // Refusals for capacity are what an operator sizes by (docs/operations.md "Logs").
    if (status === 429) req.log.warn({ status, organizationId, reason: description }, 'stream refused');
    return { ok: false, status, description };
  };
  const gone = async (): Promise<OpenStreamResult> => {
    await release(held);
    return { ok: false, gone: true };
  };
  const surface = (req.connection as { surface?: unknown }).surface;
  const slot = ctx.slots.acquire(organizationId, {
    surface: typeof surface === 'string' ? surface : 'vt', sourceLanguage: req.config.source_language, targetLanguage: req.config.target_language, startedAtMs: Date.now(),
  });
  if (!slot.ok) return refuse(429, slot.description);
  held.slot = slot.slot;
  const admission = await admitStream(ctx, { principal: grant, config: req.config, log: req.log });
  if (!admission.ok) return refuse(admission.status, admission.description);
  held.admitted = admission.stream;
  if (!req.isOpen()) return gone();
  const attached = await ctx.sessions.attach({
    grant, sourceLanguage: req.config.source_language, targetLanguage: req.config.target_language,
    vocabulary: req.config.vocabulary, dictionary: req.config.translation_dictionary,
    sendsFinals: req.config.transcript.final, sendsTranslations: req.config.transcript.translate,
    connection: req.connection, log: req.log,
  });
  if (!attached.ok) return refuse(attached.status, attached.description);
  held.session = attached.stream;
  if (!req.isOpen()) return gone();

  let link: WorkerLink;
  try {
    link = await openLeg2(ctx, req, grant, attached.stream, admission.stream);
  } catch (err) {
    if (err instanceof WorkerRefusedError) return refuse(err.status, err.description);
    await release(held);
    throw err;
  }
  if (!req.isOpen()) {
    link.close();
    return gone();
  }
  const reopen = (): Promise<WorkerLink> => openLeg2(ctx, req, grant, attached.stream, admission.stream);
  return { ok: true, stream: gatewayStream(grant, link, reopen, attached.stream, admission.stream, slot.slot) };
}

/**
 * The providers of a stream's leg-2 config (spec 002 Part 2 step 3, "merge client + backend
 * config"): the organization's engine choice where it made one, else the process's routed
 * providers (`auto` when a kind has several engines), docs/engines.md "Organizations".
 */
export function streamProviders(engines: Engines, chosen: OrganizationEngines): { stt: string; translator: string; tts: string } {
  return { stt: chosen.stt ?? engines.stt.name, translator: chosen.translator ?? engines.mt.name, tts: chosen.tts ?? engines.tts.name };
}

/** Steps [3] and [4]: the leg-2 config, then a worker's acknowledgement. */
async function openLeg2(
  ctx: AppContext, req: Omit<OpenStreamRequest, 'key'>, grant: SessionKeyGrant, session: AttachedStream, admitted: Pick<AdmittedStream, 'tier' | 'engines'>,
): Promise<WorkerLink> {
  const tier = admitted.tier;
  const leg2 = buildLeg2Config({
    requestId: newRequestId(), client: req.config,
    sourceLanguage: session.sourceLanguage, targetLanguage: session.targetLanguage,
    vocabulary: session.vocabulary, dictionary: await session.dictionary(),
    providers: streamProviders(ctx.engines, admitted.engines),
    tier,
    organizationId: grant.binding?.organizationId ?? grant.organizationId, apiKeyId: grant.keyId,
    sessionId: grant.binding?.sessionId, participantId: grant.binding?.participantId,
  });
  const sampleRateHz = req.config.audio.sample_rate;
  const handlers: WorkerLinkHandlers = {
    ...req.handlers,
    onAudio: (pcm) => {
      // The session's listeners (a phone callee) hear what this stream's client hears.
      session.speechSynthesized(pcm, sampleRateHz);
      req.handlers.onAudio(pcm);
    },
    onEvent: (event) => {
      if (event.type !== 'utterance-end') return req.handlers.onEvent(event);
      // The marks of an utterance still reach the session while the transport closes.
      session.utteranceEnded(event);
      ctx.metrics.observeUtterance(event.latency);
      ctx.onUtterance?.(event);
    },
    onClose: (code, reason) => {
      // 1000 finished, 1001 shutting down, 4xxx after its error event: the transport passes it on.
      if (code === 1000 || code === 1001 || (code >= 4000 && code < 5000)) return req.handlers.onClose(code, reason);
      req.log.warn({ code, reason }, 'leg 2 dropped: the worker died');
      ctx.metrics.leg2Failure('died');
      const description = 'Server failed to process the request: the translation worker stopped; start a new stream';
      req.handlers.onEvent({ type: 'error', status: 500, description, cause: undefined });
      req.handlers.onClose(4500, description);
    },
  };
  const link = await ctx.workers.open(leg2, { handlers, dictionary: session.dictionary, log: req.log });
  req.log.info({ source: session.sourceLanguage, target: session.targetLanguage, organizationId: grant.organizationId, workerId: link.workerId, requestId: leg2.request_id }, 'stream started');
  return link;
}

function gatewayStream(
  grant: SessionKeyGrant, first: WorkerLink, reopen: () => Promise<WorkerLink>, session: AttachedStream, admitted: AdmittedStream, slot: StreamSlot,
): GatewayStream {
  let closing: Promise<void> | undefined;
  let link = first;
  return {
    grant, session,
    get link() {
      return link;
    },
    replaceWorker: async () => {
      link.close();
      const next = await reopen();
      if (closing) next.close();
      else link = next;
    },
    audioReceived: (durationMs) => {
      session.audioReceived(durationMs);
      admitted.audioReceived(durationMs);
    },
    delivered: (event) => {
      if (event.type === 'transcript' && event.final) session.finalSent(event);
      else if (event.type === 'translation') session.translationSent(event);
    },
    close: (finishTimeoutMs) =>
      (closing ??= (async () => {
        await link.drain(finishTimeoutMs);
        await Promise.all([session.close(), admitted.end()]);
        slot.release();
      })()),
  };
}

/**
 * The stream config a {@link StreamRequest} stands for: the one place a surface's request becomes
 * the worker's input (spec 002 Part 2 step 3 merges it with the organization's settings).
 */
export function streamConfigOf(request: StreamRequest): StreamConfig {
  return {
    audio: { format: request.audio.format, sample_rate: request.audio.sampleRateHz, channels: request.audio.channels },
    source_language: request.sourceLanguage, target_language: request.targetLanguage, voice: request.voice,
    vocabulary: [...request.vocabulary], translation_dictionary: request.glossary.map((e) => ({ source: e.source, target: e.target })),
    transcript: { ...request.transcript },
    ...(request.features !== undefined ? { features: request.features } : {}),
    ...(request.metadata !== undefined ? { metadata: request.metadata } : {}),
  };
}

/**
 * Opens the stream a {@link StreamRequest} asks for: {@link openStream} with the client's key, or
 * {@link openGrantedStream} with a grant its surface resolved.
 * @throws {Error} when the database or the state store fails.
 */
export function openRequestedStream(ctx: AppContext, opening: StreamOpening): Promise<OpenStreamResult> {
  const { request, connection, handlers, isOpen, log } = opening;
  const req = { config: streamConfigOf(request), connection, handlers, isOpen, log };
  const credential = request.credential;
  return credential.kind === 'grant' ? openGrantedStream(ctx, credential.grant, req) : openStream(ctx, { ...req, key: credential.key });
}

/** What a `StreamSession` of this process needs: this stream service, the idle limit, the live streams and the metrics. */
export function streamSessionDeps(ctx: AppContext): StreamSessionDeps {
  return {
    open: (opening) => openRequestedStream(ctx, opening),
    idleAudioTimeoutMs: ctx.config.streamLimits.idleAudioTimeoutMs,
    live: ctx.activeStreams,
    streamStarted: (surface) => ctx.metrics.streamStarted(surface),
  };
}
