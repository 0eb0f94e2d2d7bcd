import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { parseConfig, type Config } from '../env.js';
import { parseNotificationAck, SentNotifications } from '../features/notifications/notification-acks.js';
import {
  acknowledgeNotifications,
  orderNotificationEvent,
  unacknowledgedOrderNotifications,
  type NotificationAck,
} from '../features/notifications/notifications.service.js';
import { getOrder } from '../features/orders/orders.service.js';
import {
  rooms,
  type ClientToServerEvents,
  type InterServerEvents,
  type OrderNotification,
  type ServerToClientEvents,
} from '../lib/events.js';
import { groupCommit } from '../lib/group-commit.js';
import type { Logger } from '../lib/logger.js';
import { notificationsAcknowledged, notificationsReplayed } from '../lib/metrics.js';
import { closeRedis, createRedis } from '../lib/redis.js';
import type { Authenticator, Principal } from '../lib/tokens.js';

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
 *
 * What a client sends is bounded: every event counts against a per-socket
 * budget (over it, events are dropped; a socket that keeps flooding is
 * disconnected), and a `notification:ack` carries at most 100 ids, of which
 * only those this socket was sent are applied, in one write.
 *
 * Event names and payloads, both ways, are the socket event catalogue's
 * (packages/client/src/events.ts, which the typed client package exports).
 */

/** What the server keeps on each socket (clients never see it). */
interface SocketData {
  principal: Principal;
}

type AppServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** A replayed `order_notification` is the one event sent with an ack callback (the catalogue's optional `ack`). */
type ReplayingSocket = Socket<
  ClientToServerEvents,
  { order_notification: (notification: OrderNotification, ack: () => void) => void },
  InterServerEvents,
  SocketData
>;

const ObjectId = z.string().regex(/^[0-9a-fA-F]{24}$/);
const SubscribeSchema = z.object({ orderId: ObjectId });
const JoinSellerSchema = z.object({ sellerId: ObjectId });

/** How long a replayed notification waits for the client's ack before it counts as not delivered. */
const REPLAY_ACK_TIMEOUT_MS = 10_000;

/** Replayed notifications' acks that arrive together are written together, one command per this many. */
const REPLAY_ACKS_PER_WRITE = 90;

type ClientEventLimits = Pick<
  Config,
  'SOCKET_EVENTS_PER_SECOND' | 'SOCKET_EVENTS_BURST' | 'SOCKET_FLOOD_DISCONNECT_AFTER'
>;

/** A client event's refusal, as its ack (or, when it asked for none, an `error` event) carries it. */
type Refusal = { error: string; message?: string };
type Parse<T> = (raw: unknown) => T | { refusal: Refusal };

type ClientEvent = keyof ClientToServerEvents;
/** What a client event's ack answers when it succeeds (the catalogue's `Answer`, without `ok`). */
type AckResult<E extends ClientEvent> = Omit<
  Extract<Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0], { ok: true }>,
  'ok'
>;

const isRefusal = (parsed: object): parsed is { refusal: Refusal } => 'refusal' in parsed;

const bySchema =
  <T extends object>(schema: z.ZodType<T>): Parse<T> =>
  (raw) => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : { refusal: { error: 'invalid payload' } };
  };

/**
 * A token bucket over every event one socket sends (a socket lives on one
 * instance, so process memory is the right place): SOCKET_EVENTS_PER_SECOND,
 * in bursts of up to SOCKET_EVENTS_BURST. An event over it is dropped; the
 * first drop since the bucket was last full is to be told to the client
 * (`tell`), the others are not. Drops pile up and drain at the same rate, and
 * a socket whose pile passes SOCKET_FLOOD_DISCONNECT_AFTER (it keeps sending
 * well over the limit) is to be disconnected.
 */
function clientEventBudget(limits: ClientEventLimits) {
  const { SOCKET_EVENTS_PER_SECOND: perSecond, SOCKET_EVENTS_BURST: burst } = limits;
  let tokens = burst;
  let dropped = 0;
  let told = false;
  let last = performance.now();
  return (): 'accept' | 'drop' | 'tell' | 'disconnect' => {
    const now = performance.now();
    const refill = ((now - last) / 1000) * perSecond;
    last = now;
    tokens = Math.min(burst, tokens + refill);
    dropped = Math.max(0, dropped - refill);
    if (tokens >= burst) told = false;
    if (tokens >= 1) {
      tokens -= 1;
      return 'accept';
    }
    dropped += 1;
    if (dropped > limits.SOCKET_FLOOD_DISCONNECT_AFTER) return 'disconnect';
    if (told) return 'drop';
    told = true;
    return 'tell';
  };
}

export interface Gateway {
  io: AppServer;
  close(): Promise<void>;
}

export function attachGateway(
  httpServer: HttpServer,
  deps: {
    tokens: Authenticator;
    log: Logger;
    redisUrl: string;
    redis: Redis;
    /** Client event limits (SOCKET_* in env.ts); their defaults when not given. */
    limits?: ClientEventLimits;
  },
): Gateway {
  const { tokens, log } = deps;
  const pub = createRedis(deps.redisUrl, 'blocking', log, 'socket-pub');
  const sub = createRedis(deps.redisUrl, 'blocking', log, 'socket-sub');
  const io: AppServer = new Server(httpServer, { adapter: createAdapter(pub, sub), serveClient: false });

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    if (typeof token !== 'string') return next(new Error('unauthorized'));
    // The same session check as HTTP: a revoked token, or one whose user is gone or demoted, is refused.
    tokens.authenticate(token).then(
      (principal) => {
        socket.data.principal = principal;
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });

  const envelope = (eventId: string) => ({ eventId, occurredAt: new Date().toISOString() });
  const limits = deps.limits ?? parseConfig({});
  const acknowledgeReplayed = groupCommit<NotificationAck>(async (acks) => {
    await acknowledgeNotifications(acks);
  }, REPLAY_ACKS_PER_WRITE);

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

  async function replayBacklog(socket: AppSocket, sellerId: string, sent: SentNotifications) {
    const pending = await unacknowledgedOrderNotifications(sellerId);
    notificationsReplayed.inc(pending.length);
    for (const notification of pending) {
      const event = orderNotificationEvent(notification);
      const notificationId = notification._id.toHexString();
      const payload = { ...event.payload, ...envelope(event.eventId), replayed: true as const };
      (socket as unknown as ReplayingSocket)
        .timeout(REPLAY_ACK_TIMEOUT_MS)
        .emit('order_notification', payload, (error: Error | null) => {
          if (error) return; // not acknowledged: sent again on the next connect
          notificationsAcknowledged.inc();
          sent.forget([notificationId]);
          acknowledgeReplayed({ recipientId: sellerId, notificationId }).catch((e: Error) =>
            log.warn({ err: e.message }, 'could not record a notification ack'),
          );
        });
    }
  }

  /**
   * Wraps a client event handler: parses its payload and answers the ack, or,
   * when the client asked for none, sends a refusal as an `error` event. Never
   * throws, whatever the client sends.
   */
  function handle<E extends ClientEvent, T extends object>(
    socket: AppSocket,
    event: E,
    parse: Parse<T>,
    run: (input: T) => Promise<AckResult<E>>,
  ) {
    return (raw: unknown, ack: unknown) => {
      // A client may put anything in the callback's place; only a function is answered.
      const answer = typeof ack === 'function' ? (ack as (response: object) => void) : undefined;
      const refuse = (refusal: Refusal) =>
        answer ? answer({ ok: false, ...refusal }) : socket.emit('error', { event, ...refusal });
      const parsed = parse(raw);
      if (isRefusal(parsed)) return refuse(parsed.refusal);
      run(parsed)
        .then(
          (result) => answer?.({ ok: true, ...result }),
          (error: Error & { code?: string }) => refuse({ error: error.code ?? 'unavailable' }),
        )
        .catch((error: Error) => log.warn({ err: error.message, event }, 'could not answer a client event'));
    };
  }

  io.on('connection', (socket) => {
    const principal = socket.data.principal;
    void socket.join(rooms.user(principal.id));
    if (principal.role === 'staff' || principal.role === 'admin') void socket.join(rooms.admin);

    // Every event the client sends, handled or not, counts against its budget.
    const budget = clientEventBudget(limits);
    socket.use((_packet, next) => {
      const verdict = budget();
      if (verdict === 'accept') return next();
      if (verdict === 'tell') {
        socket.emit('error', {
          error: 'rate_limited',
          message: `more than ${limits.SOCKET_EVENTS_PER_SECOND} events per second (bursts of ${limits.SOCKET_EVENTS_BURST}): events are being dropped`,
        });
      } else if (verdict === 'disconnect' && socket.connected) {
        log.warn({ userId: principal.id, role: principal.role }, 'socket disconnected for flooding');
        socket.emit('error', { error: 'flooding', message: 'kept sending events over the limit: disconnected' });
        socket.disconnect(true);
      }
    });

    // What this seller's socket was sent, so `notification:ack` needs no read to know the ids are the seller's.
    const sent = new SentNotifications();
    if (principal.role === 'seller') {
      socket.onAnyOutgoing((event: string, payload?: { notificationId?: unknown }) => {
        if (event === 'order_notification' && typeof payload?.notificationId === 'string') {
          sent.remember(payload.notificationId);
        }
      });
    }

    socket.on(
      'subscribe:order',
      handle(socket, 'subscribe:order', bySchema(SubscribeSchema), async ({ orderId }) => {
        // getOrder answers not_found for an order the caller may not see.
        await getOrder(deps.redis, principal, orderId);
        await socket.join(rooms.order(orderId));
        return { orderId };
      }),
    );
    socket.on(
      'unsubscribe:order',
      handle(socket, 'unsubscribe:order', bySchema(SubscribeSchema), async ({ orderId }) => {
        await socket.leave(rooms.order(orderId));
        return { orderId };
      }),
    );
    socket.on(
      'join_seller_room',
      handle(socket, 'join_seller_room', bySchema(JoinSellerSchema), async ({ sellerId }) => {
        if (principal.role !== 'seller' || sellerId !== principal.id) {
          throw Object.assign(new Error('forbidden'), { code: 'forbidden' });
        }
        await socket.join(rooms.seller(sellerId));
        return { sellerId };
      }),
    );
    socket.on(
      'notification:ack',
      handle<'notification:ack', { ids: string[] }>(
        socket,
        'notification:ack',
        parseNotificationAck,
        async ({ ids }) => {
          // Ids this socket was not sent are ignored: another seller's, or an old connection's
          // (still unacknowledged, those are replayed on this connection, to be acknowledged there).
          const mine = sent.sentOf(ids);
          const acknowledged = mine.length
            ? await acknowledgeNotifications(
                mine.map((notificationId) => ({ recipientId: principal.id, notificationId })),
              )
            : 0;
          sent.forget(mine);
          notificationsAcknowledged.inc(acknowledged);
          return { acknowledged };
        },
      ),
    );
    // Clients cannot announce orders: `order_placed` and any other client event have no handler.

    if (principal.role === 'seller') {
      void (async () => {
        await socket.join(rooms.seller(principal.id));
        await replayBacklog(socket, principal.id, sent);
        await announcePresence(principal.id);
      })().catch((error: Error) =>
        log.warn({ err: error.message, sellerId: principal.id }, 'seller connect steps failed'),
      );
      socket.on('disconnect', () => {
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
