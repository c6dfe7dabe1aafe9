import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { StateConversationStore, type ConversationStore } from '../../domain/conversations.js';
import { ConversationRoom, ConversationRooms } from '../../realtime/conversation-room.js';
import { MemoryRoomBus, type RoomBus } from '../../realtime/room-bus.js';
import { RedisRoomBus } from '../../realtime/room-bus-redis.js';
import { requireConversationKey } from './access.js';
import { conversationRestRoutes } from './rest.js';
import { RoomConnection } from '../../transports/room-participant.js';
import { SingleDeviceConnection } from '../../transports/single-device.js';
import { RedisStateStore } from '../../state/redis-store.js';
import { MemoryStateStore, type StateStore } from '../../state/store.js';

/**
 * The conversations surface (spec 003): languages, conversation creation and lookup, the
 * single-device WebSocket and multi-device rooms. Conversations are kept in Redis when `REDIS_URL`
 * is set, in memory otherwise, with a 15-minute inactivity TTL; with Redis, a room's participants
 * may be connected to different processes (membership and fan-out through Redis pub/sub).
 */
export async function conversationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const ttlS = ctx.config.conversationIdleTtlS;
  // Redis keys stay `tolk:conversation:<id>` (docs/conversations.md "Scale-out").
  const state: StateStore = ctx.redis ? new RedisStateStore(ctx.redis, 'tolk:conversation:') : new MemoryStateStore();
  const store: ConversationStore = new StateConversationStore(state, ttlS);
  const log = (err: unknown, message: string): void => app.log.error({ err }, message);
  // Rooms span processes through Redis pub/sub when REDIS_URL is set (docs/conversations.md "Scale-out").
  const bus: RoomBus = ctx.redis ? new RedisRoomBus(ctx.redis, { log }) : new MemoryRoomBus();
  const rooms = new ConversationRooms((id) => new ConversationRoom(id, ctx.engines, bus, { voice: 'female', log }));
  const live = new Set<{ shutdown(): Promise<void> }>();
  app.addHook('onClose', async () => {
    await Promise.all([...live].map((c) => c.shutdown()));
    await bus.close();
    await state.close();
  });

  await app.register(async (scope) => conversationRestRoutes(scope, ctx, store));

  // With TOLK_REQUIRE_KEY=1 the live stream needs a key; a room's socket does not: its id is the capability a key holder created.
  app.get('/api/v1/ws/single', { websocket: true, onRequest: requireConversationKey(ctx) }, (socket, request) => {
    const c = new SingleDeviceConnection(ctx, socket, request.log);
    live.add(c);
    ctx.metrics.streamStarted('single');
    ctx.liveConversations.single++;
    socket.on('close', () => {
      live.delete(c);
      ctx.liveConversations.single--;
    });
  });

  const socketsByAddress = new Map<string, number>();
  app.get('/api/v1/ws/:conversation_id', { websocket: true }, (socket, request) => {
    const held = socketsByAddress.get(request.ip) ?? 0;
    if (held >= ctx.config.roomLimits.maxSocketsPerIp) {
      const message = `Too many conversation connections from this address (at most ${ctx.config.roomLimits.maxSocketsPerIp}).`;
      socket.send(JSON.stringify({ error: message }));
      socket.close(4429, message.slice(0, 120));
      return;
    }
    socketsByAddress.set(request.ip, held + 1);
    socket.on('close', () => {
      const left = (socketsByAddress.get(request.ip) ?? 1) - 1;
      if (left > 0) socketsByAddress.set(request.ip, left);
      else socketsByAddress.delete(request.ip);
    });
    const { conversation_id: id } = request.params as { conversation_id: string };
    const { language, speech } = request.query as { language?: string; speech?: string };
    const c = new RoomConnection(ctx, store, rooms, socket, id, { language: language ?? '', speech: speech === 'true' || speech === '1' }, request.log);
    live.add(c);
    ctx.metrics.streamStarted('room');
    ctx.liveConversations.room++;
    socket.on('close', () => {
      live.delete(c);
      ctx.liveConversations.room--;
    });
    c.start().catch((err: unknown) => {
      request.log.error({ err }, 'conversation connection failed');
      socket.close(4500, 'Internal error');
    });
  });
}
