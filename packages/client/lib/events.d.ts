/**
 * The Socket.IO contract: every event the server sends and every event a
 * client may send, with its payload, in Socket.IO's typed-events form. The API's
 * gateway and the workers' publisher are typed against it, so a wrong event
 * name or payload there does not compile; clients type their socket with it:
 *
 *   const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { token } });
 *
 * Connecting takes `auth: {token}` (the API's Bearer token); a bad token fails
 * with `connect_error` "unauthorized". Everyone is in `user:{id}`, sellers in
 * `seller:{id}`, staff and admins in `admin`, and `subscribe:order` adds
 * `order:{id}`. Delivery is at least once: drop repeats by `eventId`.
 *
 * Types only: nothing here exists at run time.
 */
import type { components } from './schema.js';
type Order = components['schemas']['Order'];
type Delivery = components['schemas']['Delivery'];
type Invoice = components['schemas']['Invoice'];
type OrderStatus = Order['status'];
/** On every server event but `error`: a stable id (the same when a job that sends it runs twice) and when. */
export interface EventEnvelope {
  eventId: string;
  /** ISO 8601 */
  occurredAt: string;
}
/** A seller's new order, persisted until acknowledged (`notification:ack`, or the ack callback of a replay). */
export interface OrderNotification extends EventEnvelope {
  /** What `notification:ack` takes. */
  notificationId: string;
  orderId: string;
  orderNumber: string;
  customerName: string;
  /** Minor units of `currency`. */
  totalAmount: number;
  currency: string;
  itemCount: number;
  items: Array<{
    productId: string;
    name: string;
    sku: string;
    quantity: number;
    subtotal: number;
  }>;
  /** When the notification was stored (ISO 8601). */
  createdAt: string;
  /** Sent on connect from the backlog of unacknowledged ones (oldest first), with an ack callback. */
  replayed?: true;
}
/** An order's status moved: to its seller and customer (`order_confirmed` adds the estimate, to the customer). */
export interface OrderStatusNotice extends EventEnvelope {
  orderId: string;
  orderNumber: string;
  status: OrderStatus;
}
/** Products whose stock could not cover an order (its `inventoryStatus` is then `short`). */
export type ShortItem = Order['shortItems'][number];
export interface InventoryChange extends EventEnvelope {
  orderId: string;
  orderNumber: string;
  inventoryStatus: Order['inventoryStatus'];
  affectedProducts: Array<{
    productId: string;
    quantity: number;
  }>;
}
/** Whether a seller has a socket open on any API instance; sent to `admin` when that changes. */
export interface SellerPresence extends EventEnvelope {
  sellerId: string;
  /** Sockets the seller has open, across instances. */
  connections: number;
}
/**
 * A client event refused (when it came without an ack callback), or the socket
 * being rate-limited: `rate_limited` (events are being dropped), `flooding`
 * (disconnected next). No envelope.
 */
export interface SocketError {
  error: string;
  message?: string;
  /** The client event that was refused. */
  event?: string;
}
/** What the server sends. Unless said otherwise, to the order's seller, customer, `order:{id}` room and `admin`. */
export interface ServerToClientEvents {
  /** To `seller:{id}`, one per new order. Live ones come without `ack`; replayed ones with it: call it once handled. */
  order_notification: (notification: OrderNotification, ack?: () => void) => void;
  'order:created': (
    event: EventEnvelope & {
      order: Order;
    },
  ) => void;
  'order:updated': (
    event: EventEnvelope & {
      order: Order;
    },
  ) => void;
  'order:progress-updated': (
    event: EventEnvelope & {
      orderId: string;
      progress: number;
      status: OrderStatus;
    },
  ) => void;
  'order:payment-updated': (
    event: EventEnvelope & {
      order: Order;
    },
  ) => void;
  'order:cancelled': (
    event: EventEnvelope & {
      orderId: string;
      orderNumber: string;
      reason?: string;
    },
  ) => void;
  'order:inventory-reduced': (
    event: InventoryChange & {
      shortItems: ShortItem[];
    },
  ) => void;
  /** To the seller and `admin` only. */
  'order:inventory-short': (
    event: EventEnvelope & {
      orderId: string;
      orderNumber: string;
      shortItems: ShortItem[];
    },
  ) => void;
  'order:inventory-restored': (event: InventoryChange) => void;
  'delivery:created': (
    event: EventEnvelope & {
      delivery: Delivery;
      order: Order;
    },
  ) => void;
  'delivery:status-updated': (
    event: EventEnvelope & {
      deliveryId: string;
      deliveryNumber: string;
      status: Delivery['status'];
    },
  ) => void;
  'invoice:generated': (
    event: EventEnvelope & {
      invoice: Invoice;
      delivery: Delivery;
    },
  ) => void;
  /** To the seller and the customer. */
  order_status_update: (event: OrderStatusNotice) => void;
  /** To the customer. */
  order_confirmed: (
    event: OrderStatusNotice & {
      estimatedDelivery?: string;
    },
  ) => void;
  /** To `admin`. */
  'seller:online': (event: SellerPresence) => void;
  /** To `admin`. */
  'seller:offline': (event: SellerPresence) => void;
  error: (error: SocketError) => void;
}
/** The answer in a client event's ack callback. */
export type Answer<T extends object> =
  | ({
      ok: true;
    } & T)
  | {
      ok: false;
      error: string;
      message?: string;
    };
/**
 * What a client may send. Every event counts against a per-socket rate limit;
 * any other event (`order_placed` included) is ignored. Without an ack
 * callback, a refusal comes as an `error` event.
 */
export interface ClientToServerEvents {
  /** Join `order:{id}`: the order's owner, staff or admin; anyone else gets `not_found`. */
  'subscribe:order': (
    request: {
      orderId: string;
    },
    ack?: (
      answer: Answer<{
        orderId: string;
      }>,
    ) => void,
  ) => void;
  'unsubscribe:order': (
    request: {
      orderId: string;
    },
    ack?: (
      answer: Answer<{
        orderId: string;
      }>,
    ) => void,
  ) => void;
  /** A seller's own room (joined on connect anyway); any other id is `forbidden`. */
  join_seller_room: (
    request: {
      sellerId: string;
    },
    ack?: (
      answer: Answer<{
        sellerId: string;
      }>,
    ) => void,
  ) => void;
  /**
   * Acknowledge live `order_notification`s this socket was sent: at most 100
   * distinct ids (more: `too_many_ids`, nothing applied); other ids are ignored.
   */
  'notification:ack': (
    request: {
      ids: string[];
    },
    ack?: (
      answer: Answer<{
        acknowledged: number;
      }>,
    ) => void,
  ) => void;
}
/** API instances send each other no events of their own (the Redis adapter carries the rest). */
export type InterServerEvents = Record<string, never>;
/** The server events a process can announce through Redis: those with an envelope (all but `error`). */
export type AnnouncedEvent = {
  [E in keyof ServerToClientEvents]: Parameters<ServerToClientEvents[E]>[0] extends EventEnvelope ? E : never;
}[keyof ServerToClientEvents];
/** An announced event's payload as its sender gives it: the envelope is added when it is sent. */
export type EventContent<E extends AnnouncedEvent> = Omit<Parameters<ServerToClientEvents[E]>[0], keyof EventEnvelope>;
export {};
