import type { z } from '@hono/zod-openapi';
import { Types } from 'mongoose';
import type { OrderSchema } from '../features/orders/orders.schemas.js';
import type { DeliveryDoc, OrderDoc } from './order.model.js';

/** What clients see of an order: everything but the internal bookkeeping (the OpenAPI `Order`). */
export type PublicOrder = z.infer<typeof OrderSchema>;

/** What reads leave out: bookkeeping clients never see, and deliveries/payments, which have their own routes. */
export const VIEW_PROJECTION = { idempotencyKey: 0, deliveries: 0, payments: 0 } as const;

const iso = (date: Date | null | undefined) => (date ? new Date(date).toISOString() : undefined);

export function toPublicOrder(order: OrderDoc): PublicOrder {
  return {
    id: order._id.toHexString(),
    orderNumber: order.orderNumber,
    checkoutId: order.checkoutId,
    customer: {
      id: order.customer.id.toHexString(),
      name: order.customer.name,
      email: order.customer.email,
      ...(order.customer.phone ? { phone: order.customer.phone } : {}),
      deliveryAddress: order.customer.deliveryAddress,
    },
    seller: { id: order.seller.id.toHexString(), name: order.seller.name },
    items: order.items.map((item) => ({
      id: String(item._id),
      productId: item.productId.toHexString(),
      name: item.name,
      sku: item.sku,
      price: item.price,
      quantity: item.quantity,
      subtotal: item.subtotal,
      deliveredQuantity: item.deliveredQuantity,
      remainingQuantity: item.remainingQuantity,
    })),
    totalAmount: order.totalAmount,
    currency: order.currency,
    status: order.status,
    paymentMethod: order.paymentMethod,
    paymentStatus: order.paymentStatus,
    paidAmount: order.paidAmount,
    progress: order.progress,
    inventoryStatus: order.inventoryStatus,
    shortItems: (order.shortItems ?? []).map((s) => ({
      productId: String(s.productId),
      requested: s.requested,
      available: s.available,
    })),
    ...(order.estimatedDelivery ? { estimatedDelivery: iso(order.estimatedDelivery) } : {}),
    ...(order.notes ? { notes: order.notes } : {}),
    ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}),
    version: order.version,
    createdAt: iso(order.createdAt)!,
    updatedAt: iso(order.updatedAt)!,
  };
}

/**
 * The stored order a view was made from, as far as the view tells: deliveries,
 * payments and the bookkeeping it leaves out come back empty. For work decided
 * on what a view carries (the stock reduction of a batch read from the cache),
 * whose result is only turned back into a view.
 */
export function orderFromView(view: PublicOrder): OrderDoc {
  const date = (text: string | undefined) => (text ? new Date(text) : undefined);
  const items = view.items.map((item) => ({
    ...item,
    _id: new Types.ObjectId(item.id),
    productId: new Types.ObjectId(item.productId),
  }));
  return {
    _id: new Types.ObjectId(view.id),
    orderNumber: view.orderNumber,
    checkoutId: view.checkoutId,
    customer: { ...view.customer, id: new Types.ObjectId(view.customer.id) },
    seller: { ...view.seller, id: new Types.ObjectId(view.seller.id) },
    items: items.map(({ id: _id, ...item }) => item),
    totalAmount: view.totalAmount,
    currency: view.currency,
    status: view.status,
    paymentMethod: view.paymentMethod,
    paymentStatus: view.paymentStatus,
    paidAmount: view.paidAmount,
    progress: view.progress,
    inventoryStatus: view.inventoryStatus,
    shortItems: view.shortItems.map((s) => ({ ...s, productId: new Types.ObjectId(s.productId) })),
    estimatedDelivery: date(view.estimatedDelivery),
    notes: view.notes,
    cancelReason: view.cancelReason,
    deliveries: [],
    payments: [],
    deliveredUnits: view.items.reduce((sum, item) => sum + item.deliveredQuantity, 0),
    version: view.version,
    createdAt: new Date(view.createdAt),
    updatedAt: new Date(view.updatedAt),
  };
}

/** Remaining quantities per product, as `GET /orders/:id/remaining` shows them. */
export function remainingOf(order: PublicOrder) {
  const items: Record<string, { total: number; delivered: number; remaining: number }> = {};
  for (const item of order.items) {
    const entry = (items[item.productId] ??= { total: 0, delivered: 0, remaining: 0 });
    entry.total += item.quantity;
    entry.delivered += item.deliveredQuantity;
    entry.remaining += item.remainingQuantity;
  }
  return { orderId: order.id, items };
}

export function progressOf(order: PublicOrder) {
  return { orderId: order.id, progress: order.progress, status: order.status };
}

/** What clients see of a delivery, with the order it belongs to. */
export function toPublicDelivery(order: Pick<OrderDoc, '_id'>, delivery: DeliveryDoc) {
  return {
    id: delivery._id.toHexString(),
    orderId: order._id.toHexString(),
    deliveryNumber: delivery.deliveryNumber,
    items: delivery.items.map((line) => ({ productId: line.productId.toHexString(), quantity: line.quantity })),
    status: delivery.status,
    value: delivery.value,
    ...(delivery.scheduledDate ? { scheduledDate: new Date(delivery.scheduledDate).toISOString() } : {}),
    ...(delivery.deliveredAt ? { deliveredAt: new Date(delivery.deliveredAt).toISOString() } : {}),
    ...(delivery.notes ? { notes: delivery.notes } : {}),
    createdAt: new Date(delivery.createdAt).toISOString(),
    updatedAt: new Date(delivery.updatedAt).toISOString(),
  };
}
export type PublicDelivery = ReturnType<typeof toPublicDelivery>;
