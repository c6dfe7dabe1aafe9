/** The tenant of unauthenticated conversation streams (spec 003): they share one slot budget. */
export const CONVERSATIONS_TENANT = 'conversations';

/** A held slot; `release` is idempotent. */
export interface StreamSlot {
  release(): void;
}

/**
 * What a slot holder tells about its stream, for the console's Live page (docs/platform.md
 * "Operations"): never a key.
 */
export interface LiveStreamDetail {
  /** The surface it came in on (`vt`, `calls`, `livekit`, `phone`). */
  surface: string;
  /** BCP-47 source and target languages of the stream. */
  sourceLanguage: string;
  targetLanguage: string;
  /** When the slot was taken, in ms since the epoch. */
  startedAtMs: number;
}

/** Why a slot was refused: the process is full, or the tenant holds its share. */
export type SlotRefusal = { reason: 'capacity'; description: string } | { reason: 'tenant-share'; description: string };

/**
 * The stream slots of one process (docs/security.md): every live stream of every transport (`/vt`,
 * `/api/v1/ws/single`, a room speaker's recognizer) holds one, so `TOLK_MAX_STREAMS` bounds them
 * all together, and no tenant — an organization, or all unauthenticated conversations together —
 * holds more than `orgShare` of them, so one tenant cannot lock the others out.
 */
export class StreamSlots {
  private readonly byTenant = new Map<string, number>();
  private total = 0;
  private readonly details = new Map<string, Set<LiveStreamDetail>>();

  /**
   * @param capacity - slots of the process (`TOLK_MAX_STREAMS`).
   * @param tenantShare - fraction (0–1] of `capacity` one tenant may hold; at least 1 slot.
   * @param budgetRefusal - why the process's real-time budget would refuse one more stream now, or
   *   undefined when it fits (role `all`, docs/deploy.md "Capacity"): asked before anything else is
   *   done for the stream, so a full server answers 429 at once; the pipeline's start asks again.
   */
  constructor(readonly capacity: number, tenantShare: number, private readonly budgetRefusal?: () => string | undefined) {
    this.tenantCap = Math.max(1, Math.floor(capacity * tenantShare));
  }

  /** Slots one tenant may hold at most. */
  readonly tenantCap: number;

  /** Slots held now. */
  get held(): number {
    return this.total;
  }

  /** Slots `tenant` holds now. */
  heldBy(tenant: string): number {
    return this.byTenant.get(tenant) ?? 0;
  }

  /** The streams `tenant` holds slots for now that were described when taken (oldest first). */
  streamsOf(tenant: string): LiveStreamDetail[] {
    return [...(this.details.get(tenant) ?? [])].sort((a, b) => a.startedAtMs - b.startedAtMs);
  }

  /**
   * Takes a slot for `tenant`; `detail` describes its stream for {@link StreamSlots.streamsOf}.
   * @returns the slot, or why there is none (for a 429 answer).
   */
  acquire(tenant: string, detail?: LiveStreamDetail): { ok: true; slot: StreamSlot } | ({ ok: false } & SlotRefusal) {
    if (this.total >= this.capacity) {
      return { ok: false, reason: 'capacity', description: `Max concurrent connections exceeded (${this.capacity})` };
    }
    const spent = this.budgetRefusal?.();
    if (spent) return { ok: false, reason: 'capacity', description: spent };
    const mine = this.heldBy(tenant);
    if (mine >= this.tenantCap) {
      const who = tenant === CONVERSATIONS_TENANT ? 'Conversations already hold' : 'This organization already holds';
      return { ok: false, reason: 'tenant-share', description: `${who} ${mine} of this server's ${this.capacity} stream slots (the most one may hold)` };
    }
    this.total++;
    this.byTenant.set(tenant, mine + 1);
    if (detail) this.details.set(tenant, (this.details.get(tenant) ?? new Set()).add(detail));
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.total--;
          const left = (this.byTenant.get(tenant) ?? 1) - 1;
          if (left > 0) this.byTenant.set(tenant, left);
          else this.byTenant.delete(tenant);
          const described = this.details.get(tenant);
          if (detail && described?.delete(detail) && described.size === 0) this.details.delete(tenant);
        },
      },
    };
  }
}
