import type { CallSession, ProviderStatus } from '../src/domain/calls/model.js';
import type { CallControl, MediaFormat, MediaLeg, MediaLegSink, ProviderStatusUpdate } from '../src/domain/calls/telephony.js';
import { AppError } from '../src/errors.js';

/** A media leg as {@link RecordingCallControl} attached it. */
export interface AttachedLeg {
  sessionId: string;
  leg: string;
  format: MediaFormat;
  sink: MediaLegSink;
  /** Audio the provider pushed, concatenated. */
  pushed: Buffer[];
  ended: boolean;
}

/**
 * The calls side of {@link CallControl} as its TSDoc describes it, in memory, recording what the
 * telephony side does: status updates (session `active` on `connected`, `ended` on `completed` or
 * `failed`), attached legs (NOT_FOUND / CONFLICT as documented) and the audio pushed into them.
 */
export class RecordingCallControl implements CallControl {
  readonly sessions = new Map<string, CallSession>();
  readonly updates: Array<{ sessionId: string } & ProviderStatusUpdate> = [];
  readonly legs: AttachedLeg[] = [];
  private readonly waiters: Array<() => void> = [];

  /** Adds a session waiting for its call. */
  addSession(id: string, provider: { phoneNumber?: string | null; callSid?: string | null; status?: ProviderStatus } = {}): CallSession {
    const session: CallSession = {
      id, organizationId: 'org_test', mode: 'bidirectional_translation', status: 'created', sourceLanguage: 'en', targetLanguage: 'es',
      provider: { type: 'twilio', phoneNumber: provider.phoneNumber ?? '+14155551234', callSid: provider.callSid ?? null, status: provider.status ?? 'pending' },
      recording: { enabled: false, channels: 'dual' }, metadata: null, webhookUrl: null, createdAt: new Date(), startedAt: null, endedAt: null,
    };
    this.sessions.set(id, session);
    return session;
  }

  async reportProviderStatus(sessionId: string, update: ProviderStatusUpdate): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) throw new AppError('NOT_FOUND', `No session ${sessionId}`);
    if (session.status === 'ended') throw new AppError('CONFLICT', `Session ${sessionId} has ended`);
    if (session.provider) session.provider = { ...session.provider, status: update.status, callSid: update.providerCallId ?? session.provider.callSid };
    if (update.status === 'connected') session.status = 'active';
    if (update.status === 'completed' || update.status === 'failed') {
      session.status = 'ended';
      for (const leg of this.legs) if (leg.sessionId === sessionId && !leg.ended) leg.sink.close('session ended');
    }
    this.updates.push({ sessionId, ...update });
    this.notify();
  }

  async attachMediaLeg(sessionId: string, leg: 'customer' | 'agent', format: MediaFormat, sink: MediaLegSink): Promise<MediaLeg> {
    const session = this.sessions.get(sessionId);
    if (!session) throw new AppError('NOT_FOUND', `No session ${sessionId}`);
    if (session.status === 'ended') throw new AppError('CONFLICT', `Session ${sessionId} has ended`);
    const attached: AttachedLeg = { sessionId, leg, format, sink, pushed: [], ended: false };
    this.legs.push(attached);
    this.notify();
    return {
      pushAudio: (chunk) => {
        attached.pushed.push(Buffer.from(chunk));
        this.notify();
      },
      end: async () => {
        attached.ended = true;
        this.notify();
      },
    };
  }

  async verifyStreamToken(): Promise<boolean> {
    return false;
  }

  async getSession(sessionId: string): Promise<CallSession | undefined> {
    const s = this.sessions.get(sessionId);
    return s ? { ...s, provider: s.provider ? { ...s.provider } : null } : undefined;
  }

  /** Statuses reported for a session, in order. */
  statusesOf(sessionId: string): ProviderStatus[] {
    return this.updates.filter((u) => u.sessionId === sessionId).map((u) => u.status);
  }

  /** Resolves once `predicate()` holds (checked on every change), or rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
