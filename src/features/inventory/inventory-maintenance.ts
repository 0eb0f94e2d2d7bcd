import type { Redis } from 'ioredis';
import { lockKeys, withLock } from '../../lib/locks.js';
import { Product } from '../catalog/product.model.js';
import { Order, type OrderDoc } from '../orders/order.model.js';

/**
 * Removes the `reduce:<orderId>` / `restore:<orderId>` markers of orders whose
 * stock can no longer move, so products do not grow without bound. Safe
 * because the jobs check the order first: a late reduce finds the order no
 * longer `pending`, a late restore finds it `restored`, and an order past its
 * first delivered unit cannot be cancelled. Waits `settleMs` after the order's
 * last change, far longer than any job could still be running.
 */
export async function pruneInventoryMarkers(
  redis: Redis,
  settleMs: number,
  now = new Date(),
  batch = 200,
): Promise<number> {
  const orders = await Order.find(
    {
      inventoryMarkersPrunedAt: { $exists: false },
      updatedAt: { $lt: new Date(now.getTime() - settleMs) },
      $or: [{ inventoryStatus: 'restored' }, { deliveredUnits: { $gt: 0 } }],
    },
    { items: 1 },
  )
    .limit(batch)
    .lean<Array<Pick<OrderDoc, '_id' | 'items'>>>();

  for (const order of orders) {
    const orderId = order._id.toHexString();
    const markers = [`reduce:${orderId}`, `restore:${orderId}`];
    for (const productId of new Set(order.items.map((item) => item.productId.toHexString()))) {
      // A plain $pull per marker: FerretDB ignores $pull with $in and has no $pullAll we rely on.
      await withLock(redis, lockKeys.product(productId), async () => {
        for (const marker of markers) await Product.updateOne({ _id: productId }, { $pull: { inventoryOps: marker } });
      });
    }
    await withLock(redis, lockKeys.order(orderId), () =>
      Order.updateOne({ _id: order._id }, { $set: { inventoryMarkersPrunedAt: now } }, { timestamps: false }),
    );
  }
  return orders.length;
}
