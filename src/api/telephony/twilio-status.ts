import type { ProviderStatus } from '../../domain/calls/model.js';

/**
 * Twilio's `CallStatus` values (status callbacks and the call resource's `status`), mapped to spec
 * 004 `provider.status`: `queued`/`initiated` → `pending`, `ringing` → `ringing`, `in-progress`
 * (the `answered` event) → `connected`, `completed` → `completed`; `busy`, `no-answer`, `canceled`
 * and `failed` → `failed` (the Twilio status is kept as the reason).
 * @returns undefined for a status Twilio does not document.
 */
export function providerStatusFromCallStatus(callStatus: string): ProviderStatus | undefined {
  switch (callStatus) {
    case 'queued':
    case 'initiated':
      return 'pending';
    case 'ringing':
      return 'ringing';
    case 'in-progress':
    case 'answered':
      return 'connected';
    case 'completed':
      return 'completed';
    case 'busy':
    case 'no-answer':
    case 'canceled':
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}

const RANK: Record<ProviderStatus, number> = { pending: 0, ringing: 1, connected: 2, completed: 3, failed: 3 };

/**
 * Whether moving from `current` to `next` is progress. Twilio may deliver status callbacks out of
 * order (each carries a `SequenceNumber`), so a `ringing` after `connected`, or anything after the
 * call ended, is ignored rather than moving the session back.
 */
export function isProviderStatusProgress(current: ProviderStatus | undefined, next: ProviderStatus): boolean {
  return RANK[next] > RANK[current ?? 'pending'];
}

/** A phone call's stored status change for one of Twilio's `CallStatus` values (docs/phone.md "Twilio"). */
export interface PhoneStatusTransition {
  status: 'initiated' | 'ringing' | 'in-progress' | 'ended' | 'failed';
  /** Stored statuses it applies from: a late callback never moves a call back. */
  from: readonly string[];
  final: boolean;
  startedAt?: Date;
  endedAt?: Date;
  endedReason?: string;
}

/**
 * Twilio's `CallStatus` for a phone call into a platform session (spec 000 `phone/start`), as the
 * `phone_calls` row's status: `queued`/`initiated` → `initiated`, `ringing` → `ringing`,
 * `in-progress` (the `answered` event) → `in-progress` (sets `started_at`), `completed` → `ended`;
 * `busy`, `no-answer`, `canceled` and `failed` → `failed` with that reason (both set `ended_at`).
 * @returns undefined for a status Twilio does not document.
 */
export function phoneStatusFromCallStatus(callStatus: string, now: Date = new Date()): PhoneStatusTransition | undefined {
  switch (callStatus) {
    case 'queued':
    case 'initiated':
      return { status: 'initiated', from: ['initiated'], final: false };
    case 'ringing':
      return { status: 'ringing', from: ['initiated'], final: false };
    case 'in-progress':
    case 'answered':
      return { status: 'in-progress', from: ['initiated', 'ringing'], final: false, startedAt: now };
    case 'completed':
      return { status: 'ended', from: ['initiated', 'ringing', 'in-progress'], final: true, endedAt: now, endedReason: 'completed' };
    case 'busy':
    case 'no-answer':
    case 'canceled':
    case 'failed':
      return { status: 'failed', from: ['initiated', 'ringing', 'in-progress'], final: true, endedAt: now, endedReason: callStatus };
    default:
      return undefined;
  }
}
