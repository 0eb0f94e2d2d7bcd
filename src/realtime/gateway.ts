import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import {
  acknowledgeNotifications,
  orderNotificationEvent,
  unacknowledgedOrderNotifications,
} from '../features/notifications/notifications.service.js';
import { getOrder } from '../features/orders/orders.service.js';
import { rooms } from '../lib/events.js';
import type { Logger } from '../lib/logger.js';
import { notificationsAcknowledged, notificationsReplayed } from '../lib/metrics.js';
import { closeRedis, createRedis } from '../lib/redis.js';
import type { Principal, TokenService } from '../lib/tokens.js';

/**
 * The Socket.IO side of the API process, on the same port. Sockets are
 * authenticated with the same JWT as HTTP and put in their rooms; events come
 * from the workers through Redis (the emitter in lib/events.ts), and the Redis
 * adapter delivers them from whichever instance holds the socket.
 *
 * A seller's `order_notification`s are persisted: on connect the seller first
 * gets every one not yet acknowledged, oldest first, each with an ack callback;
 * live ones carry the same `notificationId`/`eventId` and are acknowledged with
 * `notification:ack {ids}`. Anything unacknowledged is sent again on the next
 * connect, so nothing is lost across disconnects or restarts (clients drop
 * repeats by `eventId`).
 */

interface SocketData {
  principal: Principal;
}

type AppSocket = Socket<Record<string, never>, Record<string, never>, Record<string, never>, SocketData>;
type Ack = ((response: unknown) => void) | undefined;

const ObjectId = z.string().regex(/^[0-9a-fA-F]{24}$/);
const SubscribeSchema = z.object({ orderId: ObjectId });
const JoinSellerSchema = z.object({ sellerId: ObjectId });
const AckSchema = z.object({ ids: z.array(ObjectId).max(1_000) });

/** How long a replayed notification waits for the client's ack before it counts as not delivered. */
const REPLAY_ACK_TIMEOUT_MS = 10_000;

export interface Gateway {
  io: Server;
  close(): Promise<void>;
}

export function attachGateway(
  httpServer: HttpServer,
  deps: { tokens: TokenService; log: Logger; redisUrl: string; redis: Redis },
): Gateway {
  const { tokens, log } = deps;
  const pub = createRedis(deps.redisUrl, 'blocking', log, 'socket-pub');
  const sub = createRedis(deps.redisUrl, 'blocking', log, 'socket-sub');
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub), serveClient: false });

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    if (typeof token !== 'string') return next(new Error('unauthorized'));
    tokens.verify(token).then(
      (principal) => {
        (socket as AppSocket).data.principal = principal;
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });

  const envelope = (eventId: string) => ({ eventId, occurredAt: new Date().toISOString() });

  /**
   * fetchSockets asks every API instance, so a seller with a tab on each is
   * online until both close. The last announced state is kept in Redis and an
   * event goes out only when it changes, so tabs opening and closing in any
   * order across instances never announce "online" twice in a row.
   */
  async function announcePresence(sellerId: string) {
    const sockets = await io.in(rooms.seller(sellerId)).fetchSockets();
    const state = sockets.length > 0 ? 'online' : 'offline';
    const previous = await deps.redis.set(`presence:seller:${sellerId}`, state, 'EX', 24 * 3600, 'GET');
    if (previous === state || (previous === null && state === 'offline')) return;
    io.to(rooms.admin).emit(`seller:${state}`, {
      sellerId,
      connections: sockets.length,
      ...envelope(`seller-${state}_${sellerId}_${Date.now()}`),
    });
  }

  async function replayBacklog(socket: AppSocket, sellerId: string) {
    const pending = await unacknowledgedOrderNotifications(sellerId);
    notificationsReplayed.inc(pending.length);
    for (const notification of pending) {
      const event = orderNotificationEvent(notification);
      const payload = { ...event.payload, ...envelope(event.eventId), replayed: true };
      (socket as unknown as Socket)
        .timeout(REPLAY_ACK_TIMEOUT_MS)
        .emit('order_notification', payload, (error: Error | null) => {
          if (error) return; // not acknowledged: sent again on the next connect
          notificationsAcknowledged.inc();
          acknowledgeNotifications(sellerId, [notification._id.toHexString()]).catch((e: Error) =>
            log.warn({ err: e.message }, 'could not record a notification ack'),
          );
        });
    }
  }

  /** Wraps a client event handler: validates its payload and always answers the ack, never throws. */
  function handle<T>(schema: z.ZodType<T>, run: (input: T) => Promise<unknown>) {
    return (raw: unknown, ack: Ack) => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) return ack?.({ ok: false, error: 'invalid payload' });
      run(parsed.data).then(
        (result) => ack?.({ ok: true, ...(result as object) }),
        (error: Error & { code?: string }) => ack?.({ ok: false, error: error.code ?? 'unavailable' }),
      );
    };
  }

  io.on('connection', (rawSocket) => {
    const socket = rawSocket as AppSocket;
    const principal = socket.data.principal;
    const s = socket as unknown as Socket;
    void s.join(rooms.user(principal.id));
    if (principal.role === 'staff' || principal.role === 'admin') void s.join(rooms.admin);

    s.on(
      'subscribe:order',
      handle(SubscribeSchema, async ({ orderId }) => {
        // getOrder answers not_found for an order the caller may not see.
        await getOrder(deps.redis, principal, orderId);
        await s.join(rooms.order(orderId));
        return { orderId };
      }),
    );
    s.on(
      'unsubscribe:order',
      handle(SubscribeSchema, async ({ orderId }) => {
        await s.leave(rooms.order(orderId));
        return { orderId };
      }),
    );
    s.on(
      'join_seller_room',
      handle(JoinSellerSchema, async ({ sellerId }) => {
        if (principal.role !== 'seller' || sellerId !== principal.id) {
          throw Object.assign(new Error('forbidden'), { code: 'forbidden' });
        }
        await s.join(rooms.seller(sellerId));
        return { sellerId };
      }),
    );
    s.on(
      'notification:ack',
      handle(AckSchema, async ({ ids }) => {
        const acknowledged = await acknowledgeNotifications(principal.id, ids);
        notificationsAcknowledged.inc(acknowledged);
        return { acknowledged };
      }),
    );
    // Clients cannot announce orders: `order_placed` and any other client event have no handler.

    if (principal.role === 'seller') {
      void (async () => {
        await s.join(rooms.seller(principal.id));
        await replayBacklog(socket, principal.id);
        await announcePresence(principal.id);
      })().catch((error: Error) =>
        log.warn({ err: error.message, sellerId: principal.id }, 'seller connect steps failed'),
      );
      s.on('disconnect', () => {
        announcePresence(principal.id).catch((error: Error) =>
          log.warn({ err: error.message }, 'presence update failed'),
        );
      });
    }
  });

  return {
    io,
    async close() {
      // Closing the transports (rather than a server-side disconnect, which clients take as
      // final) makes clients reconnect, to another instance when this one is going away.
      io.engine.close();
      await Promise.all([closeRedis(pub), closeRedis(sub)]);
    },
  };
}
