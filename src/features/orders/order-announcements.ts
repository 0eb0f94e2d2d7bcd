import { rooms, type EventPublisher } from '../../lib/events.js';
import { orderNotificationEvent, recordNotification } from '../notifications/notifications.service.js';
import { toPublicOrder } from './order-view.js';
import { Order, type OrderDoc } from './order.model.js';

/**
 * The events an order change sends, in both vocabularies of the design: the
 * `order:*` events of the order system and the seller-notification names
 * (`order_notification`, `order_status_update`, `order_confirmed`). Each event
 * id is derived from the order and its version, so repeats are recognisable.
 */

/** Everyone an order's events go to: its seller, its customer, its room and the admins. */
export const orderAudience = (order: OrderDoc) => [
  rooms.seller(order.seller.id.toHexString()),
  rooms.user(order.customer.id.toHexString()),
  rooms.order(order._id.toHexString()),
  rooms.admin,
];

/** A new order: one persisted notification for its seller, then the live events. */
export async function notifySellerOfOrder(events: EventPublisher, orderId: string): Promise<OrderDoc | null> {
  const order = await Order.findById(orderId).lean<OrderDoc>();
  if (!order) return null;
  const view = toPublicOrder(order);
  const sellerId = view.seller.id;
  const notification = await recordNotification({
    recipientId: sellerId,
    type: 'order_notification',
    orderId,
    dedupeKey: `order_notification:${orderId}`,
    occurredAt: order.createdAt,
    payload: {
      orderId,
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
  });
  const live = orderNotificationEvent(notification);
  events.publish([rooms.seller(sellerId)], 'order_notification', live.eventId, live.payload);
  events.publish(orderAudience(order), 'order:created', `order-created_${orderId}`, { order: view });
  return order;
}

/** A status change: `order:updated` to everyone concerned, and the seller/customer notices. */
export async function announceOrderStatus(
  events: EventPublisher,
  orderId: string,
  version: number,
): Promise<OrderDoc | null> {
  const order = await Order.findById(orderId).lean<OrderDoc>();
  if (!order) return null;
  const view = toPublicOrder(order);
  const suffix = `${orderId}_${version}`;
  events.publish(orderAudience(order), 'order:updated', `order-updated_${suffix}`, { order: view });
  const notice = { orderId, orderNumber: view.orderNumber, status: view.status };
  events.publish(
    [rooms.seller(view.seller.id), rooms.user(view.customer.id)],
    'order_status_update',
    `status-update_${suffix}`,
    notice,
  );
  if (view.status === 'confirmed') {
    events.publish([rooms.user(view.customer.id)], 'order_confirmed', `order-confirmed_${orderId}`, {
      ...notice,
      estimatedDelivery: view.estimatedDelivery,
    });
  }
  if (view.status === 'cancelled') {
    events.publish(orderAudience(order), 'order:cancelled', `order-cancelled_${orderId}`, {
      orderId,
      orderNumber: view.orderNumber,
      reason: view.cancelReason,
    });
  }
  return order;
}
