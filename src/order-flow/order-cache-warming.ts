import type { Redis } from 'ioredis';
import { cacheOrder } from './order-cache.js';
import { invalidateOrderStats } from './order-stats.js';
import { toPublicOrder } from './order-view.js';
import type { OrderDoc } from './order.model.js';
import { readLandedOrder, type OrderWriteContext } from './order-writes.js';

/**
 * Writes the order's current state into every cache. Owed by each order
 * change, so caches catch up even when the write-through at change time failed
 * (Redis down); idempotent, and never replaces a newer cached version.
 */
export async function warmOrderCache(ctx: OrderWriteContext, orderId: string, version?: number): Promise<boolean> {
  const { redis } = ctx;
  const order = await readLandedOrder(ctx, orderId, version);
  if (!order) return false;
  const written = await warmCaches(redis, order);
  // A Redis still down must fail the job, so BullMQ retries it later.
  if (!written && redis.status !== 'ready') throw new Error('Redis unavailable: cache not written');
  return written;
}

/** The order's caches and the stats' generation, from the order as stored; false when Redis could not be written. */
export async function warmCaches(redis: Redis, order: OrderDoc): Promise<boolean> {
  await invalidateOrderStats(redis);
  return cacheOrder(redis, toPublicOrder(order));
}
