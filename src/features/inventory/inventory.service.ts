import type { Redis } from 'ioredis';
import type { EventPublisher } from '../../lib/events.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { Types } from 'mongoose';
import { isDuplicateKeyError, lockedWriteFilter } from '../../lib/mongo.js';
import { rooms } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import { Product, type ProductDoc } from '../catalog/product.model.js';
import { recordNotification } from '../notifications/notifications.service.js';
import { orderAudience } from '../../order-flow/order-announcements.js';
import { changeOrder, readLandedOrder, type OrderWriteContext } from '../../order-flow/order-writes.js';
import type { OrderDoc, OrderItemDoc } from '../../order-flow/order.model.js';
import { InventoryMove, moveId, type MoveKind } from './inventory-move.model.js';

/**
 * Stock moves exactly once per order, product and kind. Each move gets a record
 * (`inventorymoves`, `_id` `reduce:<orderId>:<productId>`); a move whose record
 * exists has happened. Under the product's lock (see lib/locks.ts; FerretDB's
 * updates are not atomic) a move:
 *   1. reads the product, and if it holds a `pendingMove` (a writer died between
 *      changing the stock and recording it), records that move first;
 *   2. stops if its own record exists;
 *   3. changes `stock` and sets `pendingMove` in one single-document write;
 *   4. writes its record (a duplicate is fine), then clears `pendingMove`.
 * A crash leaves either nothing done or a `pendingMove` that the next move on
 * the product, or the job's retry, finishes in step 1.
 *
 * The records used to live in the product (`inventoryOps`), which made every
 * read and write of a product cost in proportion to its open orders: FerretDB
 * rewrites the whole document, 3.5 ms with no markers, 20 ms with 1,000, 98 ms
 * with 5,000 (measured), so throughput fell as a product sold.
 */

export interface InventoryContext extends OrderWriteContext {
  events: EventPublisher;
}

export type ReductionOutcome = { applied: true } | { applied: false; available: number };

interface PendingMove {
  id: string;
  kind: MoveKind;
  orderId: Types.ObjectId;
  quantity: number;
}

const moveOf = (kind: MoveKind, orderId: string, item: Pick<OrderItemDoc, 'productId' | 'quantity'>): PendingMove => ({
  id: moveId(kind, orderId, item.productId.toHexString()),
  kind,
  orderId: new Types.ObjectId(orderId),
  quantity: item.quantity,
});

type ProductState = Pick<ProductDoc, '_id' | 'stock'> & { pendingMove?: PendingMove | null };

const readProduct = (productId: Types.ObjectId) =>
  Product.findById(productId, { stock: 1, pendingMove: 1 }).lean<ProductState>();

const isRecorded = async (id: string) => (await InventoryMove.exists({ _id: id })) !== null;

async function recordMove(productId: Types.ObjectId, move: PendingMove): Promise<void> {
  try {
    await InventoryMove.create({
      _id: move.id,
      kind: move.kind,
      orderId: move.orderId,
      productId,
      quantity: move.quantity,
    });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

async function clearPending(productId: Types.ObjectId, move: PendingMove): Promise<void> {
  await Product.updateOne(lockedWriteFilter(productId, { 'pendingMove.id': move.id }), { $unset: { pendingMove: 1 } });
}

/** Step 1: the product, after finishing the move a crashed writer left half done. */
async function settledProduct(productId: Types.ObjectId): Promise<ProductState | null> {
  const product = await readProduct(productId);
  if (!product?.pendingMove) return product;
  await recordMove(productId, product.pendingMove);
  await clearPending(productId, product.pendingMove);
  return { ...product, pendingMove: null };
}

/** Steps 3 and 4. False when the conditional write matched nothing (MongoDB, after a lost lock). */
async function applyMove(
  productId: Types.ObjectId,
  move: PendingMove,
  delta: number,
  conditions: Record<string, unknown>,
): Promise<boolean> {
  const result = await Product.updateOne(lockedWriteFilter(productId, { pendingMove: null, ...conditions }), {
    $inc: { stock: delta },
    $set: { pendingMove: move },
  });
  if (result.modifiedCount !== 1) return false;
  await recordMove(productId, move);
  await clearPending(productId, move);
  return true;
}

/** Takes one item's quantity out of stock, once; never below zero. */
export async function applyReduction(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<ReductionOutcome> {
  return withLock(redis, lockKeys.product(item.productId.toHexString()), () => reduceUnlocked(orderId, item));
}

async function reduceUnlocked(
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<ReductionOutcome> {
  const move = moveOf('reduce', orderId, item);
  const product = await settledProduct(item.productId);
  if (!product) return { applied: false, available: 0 };
  if (await isRecorded(move.id)) return { applied: true };
  if (product.stock < item.quantity) return { applied: false, available: product.stock };
  if (await applyMove(item.productId, move, -item.quantity, { stock: { $gte: item.quantity } })) {
    return { applied: true };
  }
  // Only on MongoDB after a lost lock: someone else moved the stock; report what is there now.
  const now = await readProduct(item.productId);
  return now?.pendingMove?.id === move.id || (await isRecorded(move.id))
    ? { applied: true }
    : { applied: false, available: now?.stock ?? 0 };
}

/** Puts one item's quantity back, once, and only if its reduction happened. */
export async function applyRestoration(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<boolean> {
  const productId = item.productId.toHexString();
  return withLock(redis, lockKeys.product(productId), async () => {
    const product = await settledProduct(item.productId);
    if (!product) return false;
    const restore = moveOf('restore', orderId, item);
    if (!(await isRecorded(moveId('reduce', orderId, productId))) || (await isRecorded(restore.id))) return false;
    return applyMove(item.productId, restore, item.quantity, {});
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
  /** The version that owes the reduction (1: the placement). */
  version?: number,
): Promise<OrderDoc | null> {
  const order = await readLandedOrder(ctx, orderId, version);
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
  /** The version of the cancel that owes the restore. */
  version?: number,
): Promise<OrderDoc | null> {
  const order = await readLandedOrder(ctx, orderId, version);
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
