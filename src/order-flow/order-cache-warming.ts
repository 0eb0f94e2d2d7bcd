import type { Redis } from 'ioredis';
import { readOrder } from './inventory-outcome.js';
import { cacheOrder } from './order-cache.js';
import { invalidateOrderStats } from './order-stats.js';
import { toPublicOrder } from './order-view.js';
import type { OrderDoc } from './order.model.js';
import { readLandedOrder, type OrderWriteContext } from './order-writes.js';

/**
 * Writes the order's current state into every cache. Owed by each order
 * change, so caches catch up even when the write-through at change time failed
 * (Redis down); idempotent, and never replaces a state further along. Throws
 * (so that BullMQ retries) while the caches cannot be written.
 */
export async function warmOrderCache(ctx: OrderWriteContext, orderId: string, version?: number): Promise<boolean> {
  const order = await readLandedOrder(ctx, orderId, version);
  if (!order) return false;
  if (!(await cacheAsStored(ctx.redis, orderId, order))) throw new Error('cache not written: Redis unavailable');
  return true;
}

/** The order's caches and the stats' generation, from the order as stored; false when Redis could not be written. */
export async function warmCaches(redis: Redis, order: OrderDoc): Promise<boolean> {
  await invalidateOrderStats(redis);
  return cacheOrder(redis, toPublicOrder(order));
}

/** Reads of the stored order a refused write tries before giving up (each refusal means a change landed meanwhile). */
const READS_WHILE_REFUSED = 5;

/**
 * Caches the order as stored (`first`, when the caller read it already). A
 * cache that refuses it holds a state the stored order has moved past in one
 * way while this read was behind in the other (order-cache.ts), so the order
 * is read again and cached, until the cache takes it. False when Redis could
 * not be written, or kept refusing (a change landing between every read).
 */
export async function cacheAsStored(redis: Redis, orderId: string, first?: OrderDoc): Promise<boolean> {
  let order = first ?? (await readOrder(orderId));
  for (let read = 1; order; read++) {
    if (await warmCaches(redis, order)) return true;
    if (redis.status !== 'ready' || read >= READS_WHILE_REFUSED) return false;
    order = await readOrder(orderId);
  }
  return false;
}
