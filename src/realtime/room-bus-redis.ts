import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConversationStoreUnavailableError } from '../domain/conversations.js';
import { REDIS_NOW_MS_LUA, Renewal } from '../state/redis-leases.js';
import type { RoomBus, RoomEvent, RoomJoin, RoomMember, RoomUnsubscribe } from './room-bus.js';

/** Timing and sizes of a {@link RedisRoomBus}; the defaults suit production. */
export interface RedisRoomBusOptions {
  /** How long a member outlives the last heartbeat of its process, in ms (30 s). */
  memberTtlMs?: number;
  /** How often a process renews its members, in ms (10 s). */
  heartbeatMs?: number;
  /** Lifetime of a room's membership hash without any activity, in ms (2 min). */
  roomTtlMs?: number;
  /** Largest block of speech in one message, in bytes (32 KiB: about 1 s of 16 kHz s16). */
  maxPcmBytes?: number;
  /** Where failures that reach no caller go (publishing, heartbeats, the subscriber connection). */
  log?: (err: unknown, message: string) => void;
}

const MEMBERS_KEY = (roomId: string): string => `tolk:room:${roomId}:members`;
const CHANNEL_PREFIX = 'tolk:room:';
const CHANNEL = (roomId: string): string => `${CHANNEL_PREFIX}${roomId}`;
/** The hash field that holds the room's membership version (member ids are UUIDs). */
const VERSION_FIELD = '#v';

/**
 * Shared by every script. KEYS[1] = the members hash (field = participant id, value =
 * `{"l":language,"n":node,"t":join order,"e":expiry ms}`, plus the `#v` membership version:
 * strictly increasing and never below Redis's clock in µs, so it keeps increasing even when Redis
 * lost the hash — a restart must not make new changes look older than those already told);
 * ARGV[1] = the room's channel, ARGV[2] = member TTL (ms), ARGV[3] = hash TTL (ms).
 * Messages are a JSON header, a newline, then the binary payload if any (JSON never contains a raw
 * newline); `o` is the process the event comes from.
 */
const PRELUDE = `
local key, channel = KEYS[1], ARGV[1]
local memberTtl, roomTtl = tonumber(ARGV[2]), tonumber(ARGV[3])
${REDIS_NOW_MS_LUA}
local function count() return redis.call('HLEN', key) - redis.call('HEXISTS', key, '${VERSION_FIELD}') end
local function digits(n) return string.format('%.0f', n) end
local function bump()
  local v = math.max(tonumber(redis.call('HGET', key, '${VERSION_FIELD}') or '0') + 1, now * 1000)
  redis.call('HSET', key, '${VERSION_FIELD}', digits(v))
  return v
end
local function publish(origin, event, version)
  event.o = origin
  local json = cjson.encode(event)
  redis.call('PUBLISH', channel, string.sub(json, 1, -2) .. ',"version":' .. digits(version) .. '}\\n')
end
local function sweep()
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if all[i] ~= '${VERSION_FIELD}' then
      local m = cjson.decode(all[i + 1])
      if m.e < now then
        redis.call('HDEL', key, all[i])
        local v = bump()
        publish(m.n, { type = 'left', memberId = all[i], count = count() }, v)
      end
    end
  end
end
`;

/** ARGV[4] node, ARGV[5] id, ARGV[6] language → {count, version, id1, lang1, …} (others, oldest first). */
const JOIN = `${PRELUDE}
local node, id, lang = ARGV[4], ARGV[5], ARGV[6]
sweep()
local others = {}
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  if all[i] ~= '${VERSION_FIELD}' and all[i] ~= id then
    local m = cjson.decode(all[i + 1])
    table.insert(others, { all[i], m.l, tonumber(m.t) })
  end
end
table.sort(others, function(a, b) return a[3] < b[3] end)
local v = bump()
redis.call('HSET', key, id, cjson.encode({ l = lang, n = node, t = digits(v), e = now + memberTtl }))
redis.call('PEXPIRE', key, roomTtl)
local c = count()
publish(node, { type = 'joined', member = { id = id, language = lang }, count = c }, v)
local out = { c, v }
for _, o in ipairs(others) do
  table.insert(out, o[1])
  table.insert(out, o[2])
end
return out
`;

/** ARGV[4] node, ARGV[5] id → {count, version}, or {-1, 0} when not a member. */
const LEAVE = `${PRELUDE}
local node, id = ARGV[4], ARGV[5]
if redis.call('HDEL', key, id) == 0 then return { -1, 0 } end
local v = bump()
local c = count()
publish(node, { type = 'left', memberId = id, count = c }, v)
redis.call('PEXPIRE', key, roomTtl)
return { c, v }
`;

/**
 * ARGV[4] node, then id, language pairs: this process's members. Renews them (re-adding any that a
 * Redis restart lost, silently), drops members whose process stopped renewing them (a `left` event
 * each) and renews the hash.
 */
const HEARTBEAT = `${PRELUDE}
local node = ARGV[4]
for i = 5, #ARGV, 2 do
  local raw = redis.call('HGET', key, ARGV[i])
  local m
  if raw then
    m = cjson.decode(raw)
  else
    m = { l = ARGV[i + 1], n = node, t = digits(bump()) }
  end
  m.e = now + memberTtl
  redis.call('HSET', key, ARGV[i], cjson.encode(m))
end
sweep()
redis.call('PEXPIRE', key, roomTtl)
return count()
`;

/**
 * Conversation rooms across processes through Redis (docs/architecture.md "Processes"). Membership is the
 * hash `tolk:room:<id>:members` (participant id → language, process, join order, expiry), changed
 * only by Lua scripts that also publish the change, so counts and `joined`/`left` events agree.
 * Events travel on the channel `tolk:room:<id>` through a second connection (`redis.duplicate()`,
 * opened on first use), in a Buffer-safe frame: speech is raw PCM, not base64.
 *
 * A crashed process cannot say goodbye: each process renews its members every `heartbeatMs`, and
 * any process touching the room (a join, a heartbeat) drops members not renewed for `memberTtlMs`
 * and tells the room; the hash itself expires after `roomTtlMs` without activity.
 */
export class RedisRoomBus implements RoomBus {
  /** This process's id in member records and event origins. */
  readonly node = randomUUID();
  private readonly memberTtlMs: number;
  private readonly heartbeatMs: number;
  private readonly roomTtlMs: number;
  private readonly maxPcmBytes: number;
  private readonly log: (err: unknown, message: string) => void;
  private subscriber: Redis | undefined;
  private subscriberDown = false;
  private publishFailing = false;
  private readonly handlers = new Map<string, Set<(event: RoomEvent) => void>>();
  /** This process's members: room id → participant id → language. */
  private readonly local = new Map<string, Map<string, string>>();
  /** Renews this process's members (a lease each, on the Redis clock), started at the first join. */
  private readonly heartbeat: Renewal;
  private closed = false;

  constructor(private readonly redis: Redis, options: RedisRoomBusOptions = {}) {
    this.memberTtlMs = options.memberTtlMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.roomTtlMs = options.roomTtlMs ?? 120_000;
    this.maxPcmBytes = options.maxPcmBytes ?? 32 * 1024;
    this.log = options.log ?? (() => undefined);
    this.heartbeat = new Renewal(() => this.beat(), this.heartbeatMs, (err) => this.log(err, 'room heartbeat failed'));
  }

  async subscribe(roomId: string, onEvent: (event: RoomEvent) => void): Promise<RoomUnsubscribe> {
    this.assertOpen();
    let set = this.handlers.get(roomId);
    if (!set) this.handlers.set(roomId, (set = new Set()));
    const handlers = set;
    handlers.add(onEvent);
    const unsubscribe = async (): Promise<void> => {
      handlers.delete(onEvent);
      if (handlers.size > 0 || this.handlers.get(roomId) !== handlers) return;
      this.handlers.delete(roomId);
      await this.subscriber?.unsubscribe(CHANNEL(roomId)).catch((err: unknown) => this.log(err, 'room unsubscribe failed'));
    };
    try {
      await this.connection().subscribe(CHANNEL(roomId));
    } catch (err) {
      await unsubscribe();
      throw new ConversationStoreUnavailableError(err);
    }
    return unsubscribe;
  }

  async join(roomId: string, member: RoomMember): Promise<RoomJoin> {
    this.assertOpen();
    let mine = this.local.get(roomId);
    if (!mine) this.local.set(roomId, (mine = new Map()));
    mine.set(member.id, member.language);
    this.heartbeat.start();
    try {
      const reply = (await this.script(JOIN, roomId, this.node, member.id, member.language)) as Array<number | string>;
      const [count, version, ...rest] = reply;
      const others: RoomMember[] = [];
      for (let i = 0; i + 1 < rest.length; i += 2) others.push({ id: String(rest[i]), language: String(rest[i + 1]) });
      return { others, count: Number(count), version: Number(version) };
    } catch (err) {
      this.forget(roomId, member.id);
      throw err;
    }
  }

  async leave(roomId: string, memberId: string): Promise<{ count: number; version: number } | undefined> {
    this.forget(roomId, memberId);
    const [count, version] = (await this.script(LEAVE, roomId, this.node, memberId)) as [number, number];
    return count < 0 ? undefined : { count, version };
  }

  async members(roomId: string): Promise<RoomMember[]> {
    let all: Record<string, string>;
    try {
      all = await this.redis.hgetall(MEMBERS_KEY(roomId));
    } catch (err) {
      throw new ConversationStoreUnavailableError(err);
    }
    const members: Array<RoomMember & { order: number }> = [];
    for (const [id, raw] of Object.entries(all)) {
      if (id === VERSION_FIELD) continue;
      const m = JSON.parse(raw) as { l: string; t: string };
      members.push({ id, language: m.l, order: Number(m.t) });
    }
    return members.sort((a, b) => a.order - b.order).map(({ id, language }) => ({ id, language }));
  }

  publish(roomId: string, event: RoomEvent): void {
    if (this.closed) return;
    if (event.type !== 'speech') return this.send(roomId, event);
    const { pcm, ...header } = event;
    // Whole samples per message, however large the block the synthesizer produced.
    const step = this.maxPcmBytes - (this.maxPcmBytes % 2);
    for (let at = 0; at < pcm.length; at += step) this.send(roomId, header, pcm.subarray(at, at + step));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.heartbeat.stop();
    const remaining = [...this.local].flatMap(([roomId, members]) => [...members.keys()].map((id) => ({ roomId, id })));
    await Promise.all(remaining.map(({ roomId, id }) => this.leave(roomId, id).catch((err: unknown) => this.log(err, 'room leave on shutdown failed'))));
    this.handlers.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** The subscriber connection, opened on first use. */
  private connection(): Redis {
    if (!this.subscriber) {
      const s = this.redis.duplicate();
      s.on('error', (err: Error) => {
        if (!this.subscriberDown) this.log(err, 'room subscriber: Redis unreachable');
        this.subscriberDown = true;
      });
      s.on('ready', () => (this.subscriberDown = false));
      s.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString('utf8'), message));
      this.subscriber = s;
    }
    return this.subscriber;
  }

  private receive(channel: string, message: Buffer): void {
    if (!channel.startsWith(CHANNEL_PREFIX)) return;
    const handlers = this.handlers.get(channel.slice(CHANNEL_PREFIX.length));
    if (!handlers || handlers.size === 0) return;
    let event: RoomEvent;
    try {
      const newline = message.indexOf(0x0a);
      if (newline < 0) return;
      const { o: origin, ...header } = JSON.parse(message.subarray(0, newline).toString('utf8')) as RoomEvent & { o?: string };
      if (origin === this.node) return; // this process delivered its own events itself
      event = header.type === 'speech' ? { ...header, pcm: message.subarray(newline + 1) } : header;
    } catch (err) {
      return this.log(err, 'unreadable room event');
    }
    for (const h of handlers) {
      try {
        h(event);
      } catch (err) {
        this.log(err, 'room event handler failed');
      }
    }
  }

  private send(roomId: string, header: object, payload?: Buffer): void {
    const head = Buffer.from(`${JSON.stringify({ ...header, o: this.node })}\n`, 'utf8');
    this.redis.publish(CHANNEL(roomId), payload ? Buffer.concat([head, payload]) : head).then(
      () => (this.publishFailing = false),
      (err: unknown) => {
        // Once per outage, not once per block of speech.
        if (!this.publishFailing) this.log(err, 'room publish failed');
        this.publishFailing = true;
      },
    );
  }

  /** A process shutting down takes nobody new into its rooms. */
  private assertOpen(): void {
    if (this.closed) throw new ConversationStoreUnavailableError(new Error('the room bus is closed (shutting down)'));
  }

  /** Renews this process's members in every room it serves, dropping the dead ones. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    let failure: unknown;
    for (const [roomId, members] of [...this.local]) {
      const pairs = [...members].flat();
      // One room's failure does not stop the others' renewal.
      await this.script(HEARTBEAT, roomId, this.node, ...pairs).catch((err: unknown) => (failure = err));
    }
    if (failure) throw failure;
  }

  private forget(roomId: string, memberId: string): void {
    const mine = this.local.get(roomId);
    mine?.delete(memberId);
    if (mine?.size === 0) this.local.delete(roomId);
  }

  private async script(lua: string, roomId: string, ...args: string[]): Promise<unknown> {
    try {
      return await this.redis.eval(lua, 1, MEMBERS_KEY(roomId), CHANNEL(roomId), this.memberTtlMs, this.roomTtlMs, ...args);
    } catch (err) {
      throw new ConversationStoreUnavailableError(err);
    }
  }
}
