import type { Redis } from 'ioredis';
import type { EventPublisher } from '../../lib/events.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { lockedWriteFilter } from '../../lib/mongo.js';
import { rooms } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import { Product, type ProductDoc } from '../catalog/product.model.js';
import { recordNotification } from '../notifications/notifications.service.js';
import { orderAudience } from '../orders/order-announcements.js';
import { changeOrder, type OrderWriteContext } from '../orders/order-writes.js';
import { Order, type OrderDoc, type OrderItemDoc } from '../orders/order.model.js';

/**
 * Stock moves exactly once per order and product. Each move is one
 * single-document update that both changes `stock` and records the operation
 * in the product's `inventoryOps`, guarded by `$ne` on that record: a job that
 * runs twice, two copies running at once, or a retry after a crash between
 * products all find the finished products already marked. The product's lock
 * makes that update atomic on FerretDB too (see lib/locks.ts).
 */

export interface InventoryContext extends OrderWriteContext {
  events: EventPublisher;
}

const reduceOp = (orderId: string) => `reduce:${orderId}`;
const restoreOp = (orderId: string) => `restore:${orderId}`;

export type ReductionOutcome = { applied: true } | { applied: false; available: number };

/** Takes one item's quantity out of stock, once; never below zero. */
export async function applyReduction(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<ReductionOutcome> {
  return withLock(redis, lockKeys.product(item.productId.toHexString()), () => reduceUnlocked(orderId, item));
}

type ProductWithOps = Pick<ProductDoc, '_id' | 'stock'> & { inventoryOps: string[] };

const readWithOps = (productId: unknown) =>
  Product.findById(productId, { stock: 1, inventoryOps: 1 }).lean<ProductWithOps>();

/** Under the product's lock: decide from what is stored, then write with the same conditions as the filter. */
async function reduceUnlocked(
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<ReductionOutcome> {
  const op = reduceOp(orderId);
  const product = await readWithOps(item.productId);
  if (!product) return { applied: false, available: 0 };
  if (product.inventoryOps.includes(op)) return { applied: true };
  if (product.stock < item.quantity) return { applied: false, available: product.stock };
  const result = await Product.updateOne(
    lockedWriteFilter(item.productId, { stock: { $gte: item.quantity }, inventoryOps: { $ne: op } }),
    { $inc: { stock: -item.quantity }, $push: { inventoryOps: op } },
  );
  if (result.modifiedCount === 1) return { applied: true };
  // Only on MongoDB after a lost lock: someone else moved the stock; report what is there now.
  const now = await readWithOps(item.productId);
  return now?.inventoryOps.includes(op) ? { applied: true } : { applied: false, available: now?.stock ?? 0 };
}

/** Puts one item's quantity back, once, and only if its reduction happened. */
export async function applyRestoration(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<boolean> {
  return withLock(redis, lockKeys.product(item.productId.toHexString()), async () => {
    const [reduced, restored] = [reduceOp(orderId), restoreOp(orderId)];
    const product = await readWithOps(item.productId);
    if (!product?.inventoryOps.includes(reduced) || product.inventoryOps.includes(restored)) return false;
    const result = await Product.updateOne(
      lockedWriteFilter(item.productId, { $and: [{ inventoryOps: reduced }, { inventoryOps: { $ne: restored } }] }),
      { $inc: { stock: item.quantity }, $push: { inventoryOps: restored } },
    );
    return result.modifiedCount === 1;
  });
}

/** What both inventory events say: which products moved by how much, for which order. */
function inventoryEvent(order: OrderDoc) {
  return {
    orderId: order._id.toHexString(),
    orderNumber: order.orderNumber,
    inventoryStatus: order.inventoryStatus,
    affectedProducts: order.items.map((item) => ({ productId: item.productId.toHexString(), quantity: item.quantity })),
  };
}

export async function reduceInventoryForOrder(
  ctx: InventoryContext,
  orderId: string,
  log: Logger,
): Promise<OrderDoc | null> {
  const order = await Order.findById(orderId).lean<OrderDoc>();
  if (!order) {
    log.warn({ orderId }, 'reduce-inventory: order does not exist; nothing to do');
    return null;
  }
  const short: OrderDoc['shortItems'] = [];
  if (order.inventoryStatus === 'pending') {
    for (const item of order.items) {
      const outcome = await applyReduction(ctx.redis, orderId, item);
      if (!outcome.applied)
        short.push({ productId: item.productId, requested: item.quantity, available: outcome.available });
    }
  }
  const { order: updated } = await changeOrder(ctx, orderId, (current) =>
    current.inventoryStatus !== 'pending'
      ? null
      : { set: { inventoryStatus: short.length ? 'short' : 'reduced', shortItems: short }, jobs: ['warm-order'] },
  );

  const shortItems = updated.shortItems.map((s) => ({
    productId: String(s.productId),
    requested: s.requested,
    available: s.available,
  }));
  // Sent on every run with the same eventId: at least once for clients, who drop repeats.
  ctx.events.publish(orderAudience(updated), 'order:inventory-reduced', `inventory-reduced_${orderId}`, {
    ...inventoryEvent(updated),
    shortItems,
  });
  if (updated.inventoryStatus === 'short') {
    const sellerId = updated.seller.id.toHexString();
    await recordNotification({
      recipientId: sellerId,
      type: 'inventory_short',
      orderId,
      dedupeKey: `inventory_short:${orderId}`,
      payload: { orderId, orderNumber: updated.orderNumber, shortItems },
    });
    ctx.events.publish([rooms.seller(sellerId), rooms.admin], 'order:inventory-short', `inventory-short_${orderId}`, {
      orderId,
      orderNumber: updated.orderNumber,
      shortItems,
    });
  }
  return updated;
}

export class InventoryNotReducedYet extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} has not had its inventory reduced yet; restoring later`);
    this.name = 'InventoryNotReducedYet';
  }
}

export async function restoreInventoryForOrder(
  ctx: InventoryContext,
  orderId: string,
  log: Logger,
): Promise<OrderDoc | null> {
  const order = await Order.findById(orderId).lean<OrderDoc>();
  if (!order || order.status !== 'cancelled') {
    log.warn({ orderId, status: order?.status }, 'restore-inventory: order is not cancelled; nothing to do');
    return order;
  }
  // Restoring before the reduction finished would miss products it is about to take; retry later.
  if (order.inventoryStatus === 'pending') throw new InventoryNotReducedYet(orderId);
  if (order.inventoryStatus !== 'restored') {
    for (const item of order.items) await applyRestoration(ctx.redis, orderId, item);
  }
  const { order: updated } = await changeOrder(ctx, orderId, (current) =>
    current.inventoryStatus === 'restored' ? null : { set: { inventoryStatus: 'restored' }, jobs: ['warm-order'] },
  );
  ctx.events.publish(
    orderAudience(updated),
    'order:inventory-restored',
    `inventory-restored_${orderId}`,
    inventoryEvent(updated),
  );
  return updated;
}
