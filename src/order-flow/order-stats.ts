import type { Redis } from 'ioredis';
import { Types, type QueryFilter } from 'mongoose';
import { COMPLETED_STATUSES, IN_PROGRESS_STATUSES, OPEN_STATUSES, type OrderStatus } from './order-status.js';
import { statsFromIndex } from './order-index.js';
import { Order, type OrderDoc } from './order.model.js';

/**
 * Dashboard counters, cached 5 minutes per scope (everyone's for staff/admin,
 * one seller's, one customer's). Any status or payment change bumps one
 * generation number; an entry computed under an older generation is ignored,
 * so a reader racing a writer cannot keep stale counts alive.
 */

const TTL_S = 5 * 60;
/** Bumped by every order write; caches of derived summaries compare against it. */
export const STATS_GENERATION_KEY = 'dashboard:counters:gen';

export interface OrderStats {
  totalOrders: number;
  openOrders: number;
  inProgressOrders: number;
  completedOrders: number;
  cancelledOrders: number;
  unpaidOrders: number;
}

export type StatsScope = { kind: 'all' } | { kind: 'seller'; id: string } | { kind: 'customer'; id: string };

const cacheKey = (scope: StatsScope) =>
  scope.kind === 'all' ? 'dashboard:counters' : `dashboard:counters:${scope.kind}:${scope.id}`;

// ObjectIds, not strings: `aggregate` passes `$match` to the database uncast.
function filterOf(scope: StatsScope): QueryFilter<OrderDoc> {
  if (scope.kind === 'seller') return { 'seller.id': new Types.ObjectId(scope.id) };
  if (scope.kind === 'customer') return { 'customer.id': new Types.ObjectId(scope.id) };
  return {};
}

async function computeStats(scope: StatsScope): Promise<OrderStats> {
  const filter = filterOf(scope);
  const [byStatus, unpaidOrders] = await Promise.all([
    Order.aggregate<{ _id: OrderStatus; n: number }>([
      { $match: filter },
      { $group: { _id: '$status', n: { $sum: 1 } } },
    ]),
    Order.countDocuments({ ...filter, paymentStatus: 'unpaid', status: { $ne: 'cancelled' } }),
  ]);
  const count = (statuses: readonly OrderStatus[]) =>
    byStatus.filter((row) => statuses.includes(row._id)).reduce((sum, row) => sum + row.n, 0);
  return {
    totalOrders: byStatus.reduce((sum, row) => sum + row.n, 0),
    openOrders: count(OPEN_STATUSES),
    inProgressOrders: count(IN_PROGRESS_STATUSES),
    completedOrders: count(COMPLETED_STATUSES),
    cancelledOrders: count(['cancelled']),
    unpaidOrders,
  };
}

export async function orderStats(redis: Redis, scope: StatsScope): Promise<OrderStats> {
  let generation: string | null = null;
  try {
    const [gen, cached] = await redis.mget(STATS_GENERATION_KEY, cacheKey(scope));
    generation = gen ?? '0';
    if (cached) {
      const entry = JSON.parse(cached) as { gen: string; stats: OrderStats };
      if (entry.gen === generation) return entry.stats;
    }
  } catch {
    // Redis is down: MongoDB answers alone.
  }
  const stats = (await statsFromIndex(redis, scope)) ?? (await computeStats(scope));
  if (generation !== null) {
    await redis.set(cacheKey(scope), JSON.stringify({ gen: generation, stats }), 'EX', TTL_S).catch(() => {});
  }
  return stats;
}

/** After any status or payment change; best effort, the warm-order job repeats it. */
export async function invalidateOrderStats(redis: Redis): Promise<void> {
  await redis.incr(STATS_GENERATION_KEY).catch(() => {});
}
