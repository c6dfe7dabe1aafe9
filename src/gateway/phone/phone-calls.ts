import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { KeyPrincipal } from '../../domain/api-keys.js';
import type { MediaFormat, MediaLeg, MediaLegSink } from '../../domain/calls/telephony.js';
import { addPhoneParticipant, advancePhoneCall, findPhoneCall, type PhoneCallUpdate } from '../../domain/phone-calls.js';
import { findSession } from '../../domain/sessions.js';
import { PhoneLeg } from './phone-leg.js';

/** How long after dialing the media token opens the call's Media Stream, in ms (ringing, then answer). */
export const PHONE_MEDIA_TOKEN_TTL_MS = 120_000;
/** How long a callback or the media socket waits for the dialed call to be recorded, in ms. */
const RECORD_WAIT_MS = 10_000;
/** Statuses a call may still leave. */
const LIVE_STATUSES = ['initiated', 'ringing', 'in-progress'] as const;

/** The session a call joins, as the route found it. */
export interface PhoneCallSession {
  id: string;
  organizationId: string;
  sourceLang: string;
  targetLang: string;
}

/** A call being placed, before the provider named it: its handle for the dialer, then its fate. */
export interface PreparedPhoneCall {
  /** For {@link DialRequest.tolkCall}: the reference in the callback URLs and the secret media token. */
  readonly handle: { ref: string; mediaToken: string };
  /**
   * The provider placed the call and its row is stored: the callee becomes a participant of the
   * session, and callbacks and the media socket may proceed. When the session completed meanwhile,
   * the call is hung up.
   */
  recorded(callSid: string): Promise<void>;
  /** The dial failed: the handle opens nothing. */
  abandon(): void;
}

/** A status transition of a call (the provider's status mapped by its adapter). */
export interface PhoneCallTransition extends PhoneCallUpdate {
  /** Stored statuses the transition applies from. */
  from: readonly string[];
  /** The call is over (`ended`, `failed`). */
  final: boolean;
}

interface Entry {
  ref: string;
  token: Buffer;
  session: PhoneCallSession;
  principal: KeyPrincipal;
  phoneNumber: string;
  callSid?: string;
  participantId?: string;
  /** Resolves true once recorded, false when abandoned. */
  recorded: Promise<boolean>;
  settle: (ok: boolean) => void;
  tokenExpiresAtMs: number;
  mediaClaimed: boolean;
  leg?: PhoneLeg;
  sessionCompleted: boolean;
}

/**
 * The phone calls into platform sessions that this process placed through Twilio and carries
 * itself (docs/phone.md "Twilio"): each call's unguessable media token (single use, expiring), its
 * {@link PhoneLeg} once Twilio's Media Stream arrives, its status callbacks, and its end — the media
 * stream stopping, a final status, the callee's stream being refused, or the session completing,
 * which hangs the call up. Per process: Twilio's callbacks and stream must reach the gateway that
 * placed the call, where the session's other streams are (docs/phone.md "Limits").
 */
export class PhoneCalls {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param hangUp - ends a call at the provider; must accept a call that already ended.
   */
  constructor(private readonly ctx: AppContext, private readonly hangUp: (callSid: string) => Promise<void>, private readonly log: FastifyBaseLogger) {
    ctx.sessions.onSessionCompleted((sessionId) => {
      for (const entry of this.entries.values()) if (entry.session.id === sessionId) void this.endCall(entry, 'session-completed');
    });
  }

  /** Calls of this process not yet over (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Makes the handle of a call about to be dialed by an owner or admin (`principal`). */
  prepare(o: { session: PhoneCallSession; principal: KeyPrincipal; phoneNumber: string }): PreparedPhoneCall {
    const ref = `pc_${randomBytes(12).toString('base64url')}`;
    const mediaToken = randomBytes(24).toString('base64url');
    let settle: (ok: boolean) => void = () => {};
    const recorded = new Promise<boolean>((resolve) => (settle = resolve));
    const entry: Entry = {
      ref, token: Buffer.from(mediaToken), session: o.session, principal: o.principal, phoneNumber: o.phoneNumber, recorded, settle,
      tokenExpiresAtMs: Date.now() + PHONE_MEDIA_TOKEN_TTL_MS, mediaClaimed: false, sessionCompleted: false,
    };
    this.entries.set(ref, entry);
    // A call whose stream never came is forgotten once its token expired (its statuses still apply from the database).
    setTimeout(() => !entry.mediaClaimed && this.forget(entry), PHONE_MEDIA_TOKEN_TTL_MS).unref();
    return {
      handle: { ref, mediaToken },
      recorded: (callSid) => this.recorded(entry, callSid),
      abandon: () => {
        entry.settle(false);
        this.forget(entry);
      },
    };
  }

  private async recorded(entry: Entry, callSid: string): Promise<void> {
    entry.callSid = callSid;
    try {
      entry.participantId = await addPhoneParticipant(this.ctx.db, { callId: callSid, sessionId: entry.session.id, phoneNumber: entry.phoneNumber });
      entry.settle(true);
      const session = await findSession(this.ctx.db, [entry.session.organizationId], entry.session.id);
      if (entry.sessionCompleted || session?.status !== 'active') await this.endCall(entry, 'session-completed');
    } catch (err) {
      entry.settle(false);
      await this.endCall(entry, 'error');
      throw err;
    }
  }

  /**
   * Twilio opens the Media Stream of call `ref` with `token`: accepted once, before the token
   * expires, for a call recorded and not over. Nothing is allocated for a refusal.
   * @returns how to attach the stream, or undefined (refuse the socket).
   */
  async claimMedia(ref: string, token: string): Promise<{ attach(format: MediaFormat, sink: MediaLegSink): MediaLeg; end(): void } | undefined> {
    const entry = this.entries.get(ref);
    const given = Buffer.from(token);
    if (!entry || given.length !== entry.token.length || !timingSafeEqual(given, entry.token)) return undefined;
    if (entry.mediaClaimed || Date.now() > entry.tokenExpiresAtMs) return undefined;
    entry.mediaClaimed = true;
    if (!(await withTimeout(entry.recorded, RECORD_WAIT_MS)) || entry.sessionCompleted || !this.entries.has(ref)) return undefined;
    return {
      attach: (format, sink) => this.attach(entry, format, sink),
      end: () => this.forget(entry),
    };
  }

  private attach(entry: Entry, format: MediaFormat, sink: MediaLegSink): MediaLeg {
    const participantId = entry.participantId as string;
    const grant = {
      ...entry.principal,
      binding: { organizationId: entry.session.organizationId, sessionId: entry.session.id, participantId, speaks: 'target' as const },
    };
    const leg = new PhoneLeg({
      ctx: this.ctx, grant, session: entry.session, participantId, format, sink, log: this.log,
      onFailure: (status, description) => void this.endCall(entry, `refused: ${status} ${description}`.slice(0, 200)),
    });
    entry.leg = leg;
    return leg.mediaLeg;
  }

  /**
   * A status callback of call `ref` (already verified as Twilio's): applied when it is progress,
   * waiting for the call's row when the callback outran it; a final status ends the call here.
   * @returns `unknown` for a call Tolk did not place through Twilio.
   */
  async reportStatus(ref: string, callSid: string, t: PhoneCallTransition): Promise<'applied' | 'ignored' | 'unknown'> {
    const entry = this.entries.get(ref);
    if (entry && !(await withTimeout(entry.recorded, RECORD_WAIT_MS))) return 'unknown';
    if (entry && entry.callSid !== callSid) return 'unknown';
    const row = await findPhoneCall(this.ctx.db, callSid);
    if (!row || row.provider !== 'twilio') return 'unknown';
    const applied = await advancePhoneCall(this.ctx.db, callSid, t, t.from);
    if (t.final && entry) await this.finish(entry, `call ${t.status}`);
    return applied ? 'applied' : 'ignored';
  }

  /**
   * Ends a call from Tolk's side (its session completed, its stream was refused): the media stream
   * closes, Twilio is asked to hang up, and the row is `ended` with `reason`.
   */
  private async endCall(entry: Entry, reason: string): Promise<void> {
    entry.sessionCompleted ||= reason === 'session-completed';
    const callSid = entry.callSid;
    if (!callSid) return; // still dialing: recorded() ends it
    // Recorded first: Twilio's `completed` callback that follows the hang-up then changes nothing.
    await advancePhoneCall(this.ctx.db, callSid, { status: 'ended', endedReason: reason, endedAt: new Date() }, LIVE_STATUSES)
      .catch((err: unknown) => this.log.warn({ err, callSid }, 'phone call: recording its end failed'));
    await this.finish(entry, reason);
    try {
      await this.hangUp(callSid);
    } catch (err) {
      this.log.warn({ err, callSid }, 'phone call: hanging up through Twilio failed');
    }
  }

  /** The call is over here: its media socket closes, its leg ends and its handle is forgotten. */
  private async finish(entry: Entry, reason: string): Promise<void> {
    this.forget(entry);
    await entry.leg?.close(reason);
  }

  private forget(entry: Entry): void {
    if (this.entries.get(entry.ref) === entry) this.entries.delete(entry.ref);
  }
}

async function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
