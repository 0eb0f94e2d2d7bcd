import type { Redis } from 'ioredis';
import type { UpdateQuery } from 'mongoose';
import type { Queues } from '../../jobs/queues.js';
import { AppError } from '../../lib/errors.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { lockedWriteFilter } from '../../lib/mongo.js';
import type { Logger } from '../../lib/logger.js';
import { cacheOrder } from './order-cache.js';
import { flushOrderOutbox, orderJobId, type OrderJobName } from './order-jobs.js';
import { invalidateOrderStats } from './order-stats.js';
import { toPublicOrder } from './order-view.js';
import { Order, type OrderDoc } from './order.model.js';

/** What a write to an order needs besides MongoDB: both the API and the worker have it. */
export interface OrderWriteContext {
  queues: Queues;
  /** The fail-fast connection: caches are best effort. */
  redis: Redis;
  log: Logger;
}

/** Jobs that follow every change carry the version they announce; the rest happen once per order. */
const PER_VERSION: ReadonlySet<OrderJobName> = new Set(['announce-status', 'warm-order']);

export interface OrderChange {
  set?: Record<string, unknown>;
  inc?: Record<string, number>;
  /** Jobs the change owes; they go into the outbox in the same write. */
  jobs: OrderJobName[];
}

/**
 * Read-decide-write under the order's lock, with an optimistic version check,
 * the single-document stand-in for a transaction: `decide` sees the current
 * order and returns the change (or null for "nothing to do", or throws an
 * AppError); if another writer got in between, it runs again on the fresh order.
 */
export async function changeOrder(
  ctx: OrderWriteContext,
  orderId: string,
  decide: (order: OrderDoc) => OrderChange | null,
): Promise<{ order: OrderDoc; changed: boolean }> {
  const result = await withLock(ctx.redis, lockKeys.order(orderId), async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const order = await Order.findById(orderId).lean<OrderDoc>();
      if (!order) throw new AppError('not_found', `order ${orderId} does not exist`);
      const change = decide(order);
      if (!change) return { order, changed: false, jobIds: [] };

      const version = order.version + 1;
      const jobIds = change.jobs.map((job) => orderJobId(job, orderId, PER_VERSION.has(job) ? version : undefined));
      const update: UpdateQuery<OrderDoc> = {
        $set: { ...change.set, version, ...(jobIds.length ? { outboxAt: new Date() } : {}) },
        ...(change.inc ? { $inc: change.inc } : {}),
        ...(jobIds.length ? { $push: { outbox: { $each: jobIds } } } : {}),
      };
      // The version filter is what keeps this safe on MongoDB even if the lock expired.
      const updated = await Order.findOneAndUpdate(lockedWriteFilter(orderId, { version: order.version }), update, {
        returnDocument: 'after',
      }).lean<OrderDoc>();
      if (updated) return { order: updated, changed: true, jobIds };
    }
    throw new AppError('conflict', `order ${orderId} is being changed by many requests at once; try again`);
  });
  if (result.changed) await afterOrderWrite(ctx, result.order, result.jobIds);
  return { order: result.order, changed: result.changed };
}

/**
 * Caches the new state and enqueues what the write owes. When the write-through
 * to the caches worked, the owed `warm-order` job has nothing left to do and is
 * struck off unsent; it only runs when Redis missed the change.
 */
export async function afterOrderWrite(
  ctx: OrderWriteContext,
  order: OrderDoc,
  jobIds: readonly string[],
): Promise<void> {
  const [cached] = await Promise.all([cacheOrder(ctx.redis, toPublicOrder(order)), invalidateOrderStats(ctx.redis)]);
  if (!jobIds.length) return;
  const settled = cached ? jobIds.filter((jobId) => jobId.startsWith('warm-order_')) : [];
  await flushOrderOutbox(
    ctx,
    order._id.toHexString(),
    jobIds.filter((jobId) => !settled.includes(jobId)),
    settled,
  );
}
