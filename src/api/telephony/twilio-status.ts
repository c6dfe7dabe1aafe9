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
