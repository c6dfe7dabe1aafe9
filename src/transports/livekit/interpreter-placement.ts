import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { RedisLeases, Renewal } from '../../state/redis-leases.js';
import type { InterpreterManager, Interpreters, RunningInterpreter } from './interpreter-manager.js';
import type { InterpreterSpec } from './room-interpreter.js';

/** Timing and keys of a {@link RedisInterpreterPlacement}; the defaults suit production. */
export interface RedisInterpreterPlacementOptions {
  /** How long a room's claim outlives its gateway's last renewal, in ms (3 s). */
  claimTtlMs?: number;
  /** How often a gateway renews its claims and looks for rooms nobody serves, in ms (1 s). */
  sweepMs?: number;
  /** Key prefix (default `tolk:interpreter:`): `<prefix>rooms` (hash room → spec), `<prefix>claim:<room>`. */
  keyPrefix?: string;
  /** Whether this gateway can take one more room now (its stream slots), checked before a takeover. */
  hasRoom?: () => boolean;
  /**
   * Whether anyone but agents is still in the room (LiveKit's participant list), checked before a
   * takeover: a room everybody left while its gateway was dead is dropped, not joined again.
   */
  isRoomLive?: (roomName: string) => Promise<boolean>;
}

/**
 * Interpreters across gateways (docs/architecture.md "Processes", docs/rooms.md "Placement and failover"): every room
 * that needs an interpreter is recorded in Redis with its spec, and one gateway holds the room's
 * claim ({@link RedisLeases.claim}, renewed every `sweepMs`). A gateway that dies stops renewing;
 * within `claimTtlMs` + `sweepMs` (4 s by default) another gateway with room claims it and joins
 * the room with the same spec — the speakers' streams open again through its stream service, on
 * workers with room. A room leaves the record when its interpreter leaves by itself (the room
 * emptied or ended); a gateway shutting down only gives its claims back, so another takes over at
 * once.
 */
export class RedisInterpreterPlacement implements Interpreters {
  readonly placesElsewhere = true;
  /** This process, as the owner of its claims. */
  readonly node = `gw_${randomUUID()}`;
  private readonly leases: RedisLeases;
  private readonly renewal: Renewal;
  private readonly roomsKey: string;
  private readonly claimPrefix: string;
  private readonly claimTtlMs: number;
  private readonly manager: InterpreterManager;

  /**
   * @param createManager - makes this process's manager, given the hook the placement needs when
   *   one of its interpreters leaves a room.
   */
  constructor(
    private readonly redis: Redis,
    createManager: (onStopped: (roomName: string, byShutdown: boolean) => void) => InterpreterManager,
    private readonly log: FastifyBaseLogger,
    private readonly options: RedisInterpreterPlacementOptions = {},
  ) {
    const prefix = options.keyPrefix ?? 'tolk:interpreter:';
    this.roomsKey = `${prefix}rooms`;
    this.claimPrefix = `${prefix}claim:`;
    this.claimTtlMs = options.claimTtlMs ?? 3000;
    this.leases = new RedisLeases(redis);
    this.manager = createManager((roomName, byShutdown) => void this.onStopped(roomName, byShutdown));
    this.renewal = new Renewal(() => this.sweep(), options.sweepMs ?? 1000, (err) => this.log.error({ err }, 'interpreter placement: Redis failed (retrying)'));
    this.renewal.start();
  }

  /**
   * Records the room and, unless another gateway already claimed it or this one is at its
   * interpreter cap (then a gateway with room takes it over), runs its interpreter here.
   * @throws {Error} when Redis fails, or the interpreter cannot join (the claim is then given back).
   */
  async start(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
    // Claimed before it is recorded: no other gateway's sweep sees the room unclaimed meanwhile.
    // A gateway at its interpreter cap only records the room: one with room takes it over.
    const claimed = !this.manager.has(spec.roomName) && this.manager.hasCapacity() && (await this.leases.claim(this.claimPrefix + spec.roomName, this.node, this.claimTtlMs));
    await this.redis.hset(this.roomsKey, spec.roomName, JSON.stringify(spec));
    if (claimed) await this.runHere(spec, log);
  }

  list(): RunningInterpreter[] {
    return this.manager.list();
  }

  async close(): Promise<void> {
    await this.renewal.stop();
    const mine = this.manager.list().map((r) => r.roomName);
    await this.manager.close();
    await Promise.allSettled(mine.map((room) => this.leases.release(this.claimPrefix + room, this.node)));
  }

  /** Claims the room and starts its interpreter here; no-op when another gateway holds the claim. */
  private async takeOver(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
    if (this.manager.has(spec.roomName)) return;
    if (!(await this.leases.claim(this.claimPrefix + spec.roomName, this.node, this.claimTtlMs))) return;
    await this.runHere(spec, log);
  }

  /** Starts the interpreter of a room this gateway claimed; the claim goes back when it cannot join. */
  private async runHere(spec: InterpreterSpec, log: FastifyBaseLogger): Promise<void> {
    try {
      await this.manager.start(spec, log);
    } catch (err) {
      await this.leases.release(this.claimPrefix + spec.roomName, this.node).catch(() => {});
      throw err;
    }
  }

  /** Renews this gateway's claims (leaving rooms whose claim it lost), then takes over unserved rooms. */
  private async sweep(): Promise<void> {
    for (const { roomName } of this.manager.list()) {
      if (!(await this.leases.claim(this.claimPrefix + roomName, this.node, this.claimTtlMs))) {
        this.log.warn({ room: roomName }, 'interpreter claim lost to another gateway; leaving the room');
        await this.manager.stop(roomName);
      }
    }
    const rooms = await this.redis.hgetall(this.roomsKey);
    for (const [roomName, json] of Object.entries(rooms)) {
      if (this.manager.has(roomName) || (await this.redis.exists(this.claimPrefix + roomName)) === 1) continue;
      if ((this.options.hasRoom && !this.options.hasRoom()) || !this.manager.hasCapacity()) return;
      if (this.options.isRoomLive && !(await this.options.isRoomLive(roomName))) {
        await this.redis.hdel(this.roomsKey, roomName);
        continue;
      }
      const spec = JSON.parse(json) as InterpreterSpec;
      this.log.info({ room: roomName }, 'taking over a room whose interpreter stopped');
      await this.takeOver(spec, this.log).catch((err: unknown) => this.log.error({ err, room: roomName }, 'interpreter takeover failed'));
    }
  }

  /** An interpreter of this gateway left its room: a room that ended leaves the record. */
  private async onStopped(roomName: string, byShutdown: boolean): Promise<void> {
    try {
      const key = this.claimPrefix + roomName;
      if (!byShutdown && (await this.redis.get(key)) === this.node) await this.redis.hdel(this.roomsKey, roomName);
      await this.leases.release(key, this.node);
    } catch (err) {
      this.log.error({ err, room: roomName }, 'interpreter placement: could not record the end of a room');
    }
  }
}
