import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Queues } from '../jobs/queues.js';
import { AppError } from '../lib/errors.js';
import { lockKeys, withLock } from '../lib/locks.js';
import { sleep } from '../lib/async.js';
import { isDuplicateKeyError, lockedWriteFilter } from '../lib/mongo.js';
import type { Logger } from '../lib/logger.js';
import { cachedOrders, cacheOrders } from './order-cache.js';
import { batchJobId, orderJobId, parseOrderJobId, PER_VERSION_JOBS, type OrderJobName } from './order-jobs.js';
import { invalidateOrderStats } from './order-stats.js';
import { toPublicOrder, type PublicOrder } from './order-view.js';
import { foldedInventory, readOrder, withInventoryOutcomes } from './inventory-outcome.js';
import { OrderRevision, revisionId, type ChangeAnnouncement, type OrderRevisionDoc } from './order-revision.model.js';
import { Order, type OrderDoc } from './order.model.js';
import { oweJobs, sendOwedJobs, settleOwedJobs, type OwedEntry } from './owed-work.js';

/** What a write to an order needs besides MongoDB: both the API and the worker have it. */
export interface OrderWriteContext {
  queues: Queues;
  /** The fail-fast connection: caches are best effort. */
  redis: Redis;
  log: Logger;
  /** The request making the change: the jobs it owes carry it, so API and worker logs of one change join. */
  requestId?: string | undefined;
}

export interface OrderChange {
  /** The fields the change sets, computed from the order it was decided on (no $inc: a claim must be replayable). */
  set?: Record<string, unknown>;
  /** Jobs the change owes; recorded as owed work before the change is written. */
  jobs: OrderJobName[];
  /** Owed jobs with ids of their own (an invoice per delivery). */
  extraJobIds?: string[];
  /** Kept with the revision, for the announce-status job of this version. */
  announce?: ChangeAnnouncement;
}

/** The jobs `change` owes as version `version` of the order, each carrying the request that made it. */
const owedBy = (ctx: OrderWriteContext, orderId: string, change: OrderChange, version: number): OwedEntry[] =>
  [
    ...change.jobs.map((job) => orderJobId(job, orderId, PER_VERSION_JOBS.has(job) ? version : undefined)),
    ...(change.extraJobIds ?? []),
  ].map((jobId) => ({ jobId, version, requestId: ctx.requestId }));

/** A claimed version whose writer has not written it after this long is taken as crashed and finished by the next writer. */
const STALE_CLAIM_MS = 5_000;

/**
 * Read-decide-write under the order's lock, the single-document stand-in for
 * a transaction: `decide` sees the current order and returns the change (or
 * null for "nothing to do", or throws an AppError). The writer then claims the
 * next version by inserting its revision (unique `_id`), and only the claimant
 * writes the order; a writer that loses the claim decides again on the fresh
 * order. On MongoDB the version filter on the write guards the same way.
 *
 * The jobs the change owes are recorded before the claim (owed-work.ts): a
 * writer that dies after that leaves owed work whose job waits for the version
 * to land, and is dropped by the reconciler if it never does.
 */
export async function changeOrder(
  ctx: OrderWriteContext,
  orderId: string,
  decide: (order: OrderDoc) => OrderChange | null,
): Promise<{ order: OrderDoc; changed: boolean; cached: boolean }> {
  const result = await withLock(ctx.redis, lockKeys.order(orderId), async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const order = await readOrder(orderId);
      if (!order) throw new AppError('not_found', `order ${orderId} does not exist`);
      const change = decide(order);
      if (!change) return { order, changed: false, owed: [] as OwedEntry[] };

      const version = order.version + 1;
      const owed = owedBy(ctx, orderId, change, version);
      const set: Record<string, unknown> = { ...foldedInventory(order), ...change.set, version };
      await oweJobs(owed);
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
      // With an outcome recorded since the read, if any (it takes no order lock).
      if (updated) return { order: (await withInventoryOutcomes([updated]))[0]!, changed: true, owed };
      // Only on MongoDB: our claim was finished for us (we stalled past STALE_CLAIM_MS). Deciding
      // again would apply the change twice.
      const finished = await readOrder(orderId);
      if (finished?.version === version) return { order: finished, changed: true, owed };
    }
    throw new AppError('conflict', `order ${orderId} is being changed by many requests at once; try again`, {
      retryable: true,
    });
  });
  const cached = result.changed && (await afterOrderWrite(ctx, result.order, result.owed));
  return { order: result.order, changed: result.changed, cached };
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
 * The order as of `version` (the change that owes a job), for the job:
 * finishes a claim of that version whose writer died, and throws
 * `ChangeNotLanded` (a reason to retry) while the change is not written yet.
 * Without a version (jobs queued before owed work existed) it is the order as
 * stored, or null.
 */
export async function readLandedOrder(
  ctx: OrderWriteContext,
  orderId: string,
  version: number | undefined,
): Promise<OrderDoc | null> {
  const order = await readOrder(orderId);
  if (version === undefined || (order && order.version >= version)) return order;
  if (order) {
    await withLock(ctx.redis, lockKeys.order(orderId), () => finishStaleClaim(orderId, version));
    const finished = await readOrder(orderId);
    if (finished && finished.version >= version) return finished;
  }
  throw new ChangeNotLanded(orderId, version);
}

/**
 * Many orders as of the versions that owe their jobs, as clients see them:
 * from the order cache where it holds that version or a newer one (every
 * cached version is one that landed), from MongoDB otherwise (`readLandedOrder`).
 * For jobs that only read what an order says, so that a job right after a
 * write reads nothing from the database. One outcome per request.
 */
export async function readLandedViews(
  ctx: OrderWriteContext,
  requests: ReadonlyArray<{ orderId: string; version?: number | undefined }>,
): Promise<Array<PromiseSettledResult<PublicOrder | null>>> {
  const cached = await cachedOrders(
    ctx.redis,
    requests.map((r) => r.orderId),
  );
  return Promise.allSettled(
    requests.map(async ({ orderId, version }) => {
      const view = cached.get(orderId);
      if (view && view.version >= (version ?? 0)) return view;
      const order = await readLandedOrder(ctx, orderId, version);
      return order && toPublicOrder(order);
    }),
  );
}

/** A job ran before the change that owes it was written (its writer is slow, or died). Retried. */
export class ChangeNotLanded extends Error {
  constructor(orderId: string, version: number) {
    super(`order ${orderId} does not have version ${version} yet`);
    this.name = 'ChangeNotLanded';
  }
}

/**
 * Writes new orders, many at once: what they owe first (one insert), then the
 * orders (`insert`, one command for all, given by the caller, which knows how
 * to number them), then their caches and jobs (one `addBulk` per queue). The
 * batched counterpart of a change's write, for the checkout's group commit.
 * Answers the ids that were stored already (a concurrent writer of the same
 * keyed checkout).
 */
export async function writeNewOrders(
  ctx: OrderWriteContext,
  orders: readonly OrderDoc[],
  owedOf: (order: OrderDoc) => OwedEntry[],
  /** Inserts the orders; answers the ids it found stored already (not written by this call). */
  insert: (orders: readonly OrderDoc[]) => Promise<ReadonlySet<string>>,
): Promise<ReadonlySet<string>> {
  if (!orders.length) return new Set();
  // Orders written together owe and send their jobs together: one entry and one BullMQ job per
  // kind for them all (order-jobs.ts `batchJobId`). A lone order owes its own jobs.
  const perOrder = new Map(orders.map((order) => [order, owedOf(order)]));
  const batch = orders.length > 1 ? batchEntries([...perOrder.values()].flat()) : undefined;
  await oweJobs(batch ?? [...perOrder.values()].flat());
  const stored = await insert(orders);
  // An order someone else wrote is theirs to cache and announce: ours may differ from it. (A
  // batch job that carries it too finds its work done, or does it first: either way once.)
  const written = orders.filter((order) => !stored.has(order._id.toHexString()));
  await afterOrderWrites(
    ctx,
    written.map((order) => ({ order, owed: batch ? [] : perOrder.get(order)! })),
    batch,
  );
  return stored;
}

/**
 * Caches the new state and enqueues what the write owes. When the write-through
 * to the caches worked, the owed `warm-order` job has nothing left to do and is
 * struck off unsent; it only runs when Redis missed the change. True when the
 * caches hold the new state (or a newer one).
 */
export async function afterOrderWrite(
  ctx: OrderWriteContext,
  order: OrderDoc,
  owed: readonly OwedEntry[],
): Promise<boolean> {
  const [cached] = await afterOrderWrites(ctx, [{ order, owed }]);
  return cached!;
}

/** Per-order entries (`<name>_<orderId>`) as one batch entry per job name, its orders its members. */
function batchEntries(entries: readonly OwedEntry[]): OwedEntry[] {
  const id = randomUUID();
  const byName = new Map<OrderJobName, OwedEntry>();
  for (const { jobId, version, requestId } of entries) {
    // Made by `orderJobId` for these orders (owedBy, placementJobs): always an order's own job.
    const { name, payload } = parseOrderJobId(jobId, version)!;
    const batch = byName.get(name) ?? { jobId: batchJobId(name, id), version, members: [] };
    batch.version = Math.max(batch.version, version);
    batch.members!.push({ orderId: payload.orderId, version, ...(requestId ? { requestId } : {}) });
    byName.set(name, batch);
  }
  return [...byName.values()];
}

async function afterOrderWrites(
  ctx: OrderWriteContext,
  writes: ReadonlyArray<{ order: OrderDoc; owed: readonly OwedEntry[] }>,
  /** Owed entries of no one order (batch jobs), sent with the rest. */
  shared: readonly OwedEntry[] = [],
): Promise<boolean[]> {
  const [cached] = await Promise.all([
    cacheOrders(
      ctx.redis,
      writes.map(({ order }) => toPublicOrder(order)),
    ),
    invalidateOrderStats(ctx.redis),
  ]);
  const isWarm = (entry: OwedEntry) => entry.jobId.startsWith('warm-order_');
  const toSend = [...shared, ...writes.flatMap(({ owed }, i) => owed.filter((entry) => !cached[i] || !isWarm(entry)))];
  const settled = writes.flatMap(({ owed }, i) => (cached[i] ? owed.filter(isWarm) : []));
  await Promise.all([
    toSend.length ? sendOwedJobs(ctx.queues, toSend, ctx.log) : undefined,
    settled.length
      ? settleOwedJobs(settled.map((entry) => entry.jobId)).catch((error: Error) =>
          // Still owed: the job runs later and finds the cache warm already.
          ctx.log.warn({ err: error.message }, 'could not strike off a cache warm'),
        )
      : undefined,
  ]);
  return cached;
}
