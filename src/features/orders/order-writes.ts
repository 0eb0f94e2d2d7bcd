import type { Redis } from 'ioredis';
import type { Queues } from '../../jobs/queues.js';
import { AppError } from '../../lib/errors.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { sleep } from '../../lib/async.js';
import { isDuplicateKeyError, lockedWriteFilter } from '../../lib/mongo.js';
import type { Logger } from '../../lib/logger.js';
import { cacheOrder } from './order-cache.js';
import { flushOrderOutbox, orderJobId, type OrderJobName } from './order-jobs.js';
import { invalidateOrderStats } from './order-stats.js';
import { toPublicOrder } from './order-view.js';
import { OrderRevision, revisionId, type ChangeAnnouncement, type OrderRevisionDoc } from './order-revision.model.js';
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
  /** The fields the change sets, computed from the order it was decided on (no $inc: a claim must be replayable). */
  set?: Record<string, unknown>;
  /** Jobs the change owes; they go into the outbox in the same write. */
  jobs: OrderJobName[];
  /** Owed jobs with ids of their own (an invoice per delivery). */
  extraJobIds?: string[];
  /** Kept with the revision, for the announce-status job of this version. */
  announce?: ChangeAnnouncement;
}

/** A claimed version whose writer has not written it after this long is taken as crashed and finished by the next writer. */
const STALE_CLAIM_MS = 5_000;

/**
 * Read-decide-write under the order's lock, the single-document stand-in for
 * a transaction: `decide` sees the current order and returns the change (or
 * null for "nothing to do", or throws an AppError). The writer then claims the
 * next version by inserting its revision (unique `_id`), and only the claimant
 * writes the order; a writer that loses the claim decides again on the fresh
 * order. On MongoDB the version filter on the write guards the same way.
 */
export async function changeOrder(
  ctx: OrderWriteContext,
  orderId: string,
  decide: (order: OrderDoc) => OrderChange | null,
): Promise<{ order: OrderDoc; changed: boolean }> {
  const result = await withLock(ctx.redis, lockKeys.order(orderId), async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const order = await Order.findById(orderId).lean<OrderDoc>();
      if (!order) throw new AppError('not_found', `order ${orderId} does not exist`);
      const change = decide(order);
      if (!change) return { order, changed: false, jobIds: [] as string[] };

      const version = order.version + 1;
      const jobIds = [
        ...change.jobs.map((job) => orderJobId(job, orderId, PER_VERSION.has(job) ? version : undefined)),
        ...(change.extraJobIds ?? []),
      ];
      const set: Record<string, unknown> = {
        ...change.set,
        version,
        ...(jobIds.length ? { outbox: [...order.outbox, ...jobIds], outboxAt: new Date() } : {}),
      };
      try {
        await OrderRevision.create({
          _id: revisionId(orderId, version),
          orderId,
          version,
          set,
          ...(change.announce ? { announce: change.announce } : {}),
        });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        await finishStaleClaim(orderId, version);
        continue;
      }
      const updated = await Order.findOneAndUpdate(
        lockedWriteFilter(orderId, { version: order.version }),
        { $set: set },
        {
          returnDocument: 'after',
        },
      ).lean<OrderDoc>();
      if (updated) return { order: updated, changed: true, jobIds };
      // Only on MongoDB: our claim was finished for us (we stalled past STALE_CLAIM_MS). Deciding
      // again would apply the change twice.
      const finished = await Order.findById(orderId).lean<OrderDoc>();
      if (finished?.version === version) return { order: finished, changed: true, jobIds };
    }
    throw new AppError('conflict', `order ${orderId} is being changed by many requests at once; try again`);
  });
  if (result.changed) await afterOrderWrite(ctx, result.order, result.jobIds);
  return { order: result.order, changed: result.changed };
}

/**
 * Someone claimed `version` and has not written it: wait while the claim is
 * fresh (its writer is mid-flight); past STALE_CLAIM_MS, write it ourselves.
 * Re-applying a claim's `$set` is harmless, so two finishers agree.
 */
async function finishStaleClaim(orderId: string, version: number): Promise<void> {
  const [claim, order] = await Promise.all([
    OrderRevision.findById(revisionId(orderId, version)).lean<OrderRevisionDoc>(),
    Order.findById(orderId, { version: 1 }).lean<Pick<OrderDoc, 'version'>>(),
  ]);
  if (!claim || !order || order.version >= version) return;
  if (Date.now() - new Date(claim.createdAt).getTime() < STALE_CLAIM_MS) {
    await sleep(50);
    return;
  }
  await Order.updateOne(lockedWriteFilter(orderId, { version: version - 1 }), { $set: claim.set });
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
