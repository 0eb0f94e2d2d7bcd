import { rooms, type EventPublisher } from '../lib/events.js';
import {
  orderNotificationEvent,
  recordNotifications,
  type NewNotification,
} from '../features/notifications/notifications.service.js';
import { OrderRevision, revisionId, type OrderRevisionDoc } from './order-revision.model.js';
import { toPublicDelivery, toPublicOrder, type PublicOrder } from './order-view.js';
import type { OrderDoc } from './order.model.js';
import { readLandedOrder, readLandedViews, type OrderWriteContext } from './order-writes.js';

/** What announcing needs: the publisher, and the write context to finish a change a crashed writer left. */
export interface AnnounceContext extends OrderWriteContext {
  events: EventPublisher;
}

/**
 * The events an order change sends, in both vocabularies of the design: the
 * `order:*` events of the order system and the seller-notification names
 * (`order_notification`, `order_status_update`, `order_confirmed`). Each event
 * id is derived from the order and its version, so repeats are recognisable.
 */

/** Everyone an order's events go to: its seller, its customer, its room and the admins. */
export const orderAudience = (order: OrderDoc) => audienceOf(toPublicOrder(order));

const audienceOf = (view: PublicOrder) => [
  rooms.seller(view.seller.id),
  rooms.user(view.customer.id),
  rooms.order(view.id),
  rooms.admin,
];

/** A new order: one persisted notification for its seller, then the live events. */
export async function notifySellerOfOrder(
  ctx: AnnounceContext,
  orderId: string,
  version?: number,
): Promise<PublicOrder | null> {
  const [outcome] = await notifySellersOfOrders(ctx, [{ orderId, version }]);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

/**
 * New orders, many at once (the worker hands it the jobs that arrive
 * together): their notifications stored in one insert, then the live events.
 * The orders come from the order cache when it has them (the placement just
 * wrote them there), from MongoDB otherwise. One outcome per order; an order
 * whose change has not landed fails alone.
 */
export async function notifySellersOfOrders(
  { events, ...ctx }: AnnounceContext,
  requests: ReadonlyArray<{ orderId: string; version?: number | undefined }>,
): Promise<Array<PromiseSettledResult<PublicOrder | null>>> {
  const loaded = await readLandedViews(ctx, requests);
  const orders = loaded.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : []));
  const notifications = await recordNotifications(orders.map(newOrderNotification));
  orders.forEach((order, i) => {
    const live = orderNotificationEvent(notifications[i]!);
    events.publish([rooms.seller(order.seller.id)], 'order_notification', live.eventId, live.payload);
    events.publish(audienceOf(order), 'order:created', `order-created_${order.id}`, { order });
  });
  return loaded;
}

/** The seller's `order_notification` for a new order. */
function newOrderNotification(view: PublicOrder): NewNotification {
  return {
    recipientId: view.seller.id,
    type: 'order_notification',
    orderId: view.id,
    dedupeKey: `order_notification:${view.id}`,
    occurredAt: new Date(view.createdAt),
    payload: {
      orderId: view.id,
      orderNumber: view.orderNumber,
      customerName: view.customer.name,
      totalAmount: view.totalAmount,
      currency: view.currency,
      itemCount: view.items.length,
      items: view.items.map(({ productId, name, sku, quantity, subtotal }) => ({
        productId,
        name,
        sku,
        quantity,
        subtotal,
      })),
    },
  };
}

/**
 * An order change: `order:updated` and `order:progress-updated` to everyone
 * concerned, the delivery or payment event the change's revision names, and the
 * seller/customer status notices when the status moved.
 */
export async function announceOrderStatus(
  { events, ...ctx }: AnnounceContext,
  orderId: string,
  version: number,
): Promise<OrderDoc | null> {
  const order = await readLandedOrder(ctx, orderId, version);
  if (!order) return null;
  const view = toPublicOrder(order);
  const suffix = `${orderId}_${version}`;
  events.publish(orderAudience(order), 'order:updated', `order-updated_${suffix}`, { order: view });
  const change = await OrderRevision.findById(revisionId(orderId, version)).lean<OrderRevisionDoc>();
  const announce = change?.announce;
  // Changes without an announcement (confirm, cancel, status) are status changes.
  const statusChanged = announce?.statusChanged ?? true;
  const notice = { orderId, orderNumber: view.orderNumber, status: view.status };
  if (statusChanged) {
    events.publish(
      [rooms.seller(view.seller.id), rooms.user(view.customer.id)],
      'order_status_update',
      `status-update_${suffix}`,
      notice,
    );
  }
  events.publish(orderAudience(order), 'order:progress-updated', `progress-updated_${suffix}`, {
    orderId,
    progress: view.progress,
    status: view.status,
  });
  if (announce?.event === 'order:payment-updated') {
    events.publish(orderAudience(order), announce.event, `payment-updated_${suffix}`, { order: view });
  }
  const delivery = announce?.deliveryId
    ? order.deliveries?.find((d) => d._id.toHexString() === announce.deliveryId)
    : undefined;
  if (announce?.event === 'delivery:created' && delivery) {
    events.publish(orderAudience(order), announce.event, `delivery-created_${announce.deliveryId}`, {
      delivery: toPublicDelivery(order, delivery),
      order: view,
    });
  }
  if (announce?.event === 'delivery:status-updated' && delivery) {
    events.publish(orderAudience(order), announce.event, `delivery-status_${announce.deliveryId}_${version}`, {
      deliveryId: delivery._id.toHexString(),
      deliveryNumber: delivery.deliveryNumber,
      status: delivery.status,
    });
  }
  if (statusChanged && view.status === 'confirmed') {
    events.publish([rooms.user(view.customer.id)], 'order_confirmed', `order-confirmed_${orderId}`, {
      ...notice,
      estimatedDelivery: view.estimatedDelivery,
    });
  }
  if (statusChanged && view.status === 'cancelled') {
    events.publish(orderAudience(order), 'order:cancelled', `order-cancelled_${orderId}`, {
      orderId,
      orderNumber: view.orderNumber,
      reason: view.cancelReason,
    });
  }
  return order;
}
