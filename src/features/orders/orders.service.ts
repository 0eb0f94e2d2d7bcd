import type { Redis } from 'ioredis';
import type { QueryFilter, SortOrder } from 'mongoose';
import { AppError } from '../../lib/errors.js';
import type { JsonText } from '../../lib/http.js';
import type { Principal } from '../../lib/tokens.js';
import { canSeeOrder, isStaff } from '../../order-flow/order-access.js';
import {
  cachedOrder,
  cachedOrderJson,
  cachedOwners,
  cachedOrders,
  cachedProgress,
  cachedRemaining,
  cacheOrder,
} from '../../order-flow/order-cache.js';
import { pageFromIndex } from '../../order-flow/order-index.js';
import { searchFilter, searchFromIndex } from '../../order-flow/order-search.js';
import { orderStats, type StatsScope } from '../../order-flow/order-stats.js';
import { canTransition, DERIVED_STATUSES, isCancellable, type OrderStatus } from '../../order-flow/order-status.js';
import {
  progressOf,
  remainingOf,
  toPublicOrder,
  VIEW_PROJECTION,
  type PublicOrder,
} from '../../order-flow/order-view.js';
import { changeOrder, type OrderWriteContext } from '../../order-flow/order-writes.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';
import { readOrder, withInventoryOutcomes } from '../../order-flow/inventory-outcome.js';
import type { ListOrdersQuery } from './orders.schemas.js';

// Someone who may not see an order learns nothing, not even that it exists.
const notFound = (id: string) => new AppError('not_found', `order ${id} does not exist`);

const illegal = (order: { status: OrderStatus }, wanted: string) =>
  new AppError('conflict', `cannot ${wanted}: the order is ${order.status}`, {
    extra: { currentStatus: order.status },
  });

// ---------------------------------------------------------------- reads

const SORTS: Record<ListOrdersQuery['sort'], Record<string, SortOrder>> = {
  '-createdAt': { createdAt: -1, _id: -1 },
  createdAt: { createdAt: 1, _id: 1 },
  totalAmount: { totalAmount: 1, _id: 1 },
  '-totalAmount': { totalAmount: -1, _id: -1 },
  orderNumber: { orderNumber: 1 },
};

export function scopeFilter(caller: Principal): QueryFilter<OrderDoc> {
  if (caller.role === 'customer') return { 'customer.id': caller.id };
  if (caller.role === 'seller') return { 'seller.id': caller.id };
  return {};
}

/**
 * A page of orders from the Redis index (lists: order-index.ts; `search`:
 * order-search.ts), or from MongoDB when the index cannot answer (not built,
 * Redis down; and lists by payment status or sorted by amount or number, which
 * the list index does not keep, but search does). Both answer the same.
 */
export async function listOrders(redis: Redis, caller: Principal, query: ListOrdersQuery) {
  const indexed = query.search
    ? await searchFromIndex(redis, caller, query)
    : await pageFromIndex(redis, caller, query);
  if (indexed) {
    return {
      data: await ordersByIds(redis, indexed.ids),
      page: query.page,
      limit: query.limit,
      total: indexed.total,
      totalPages: Math.ceil(indexed.total / query.limit),
    };
  }
  const filter: QueryFilter<OrderDoc> = { ...scopeFilter(caller) };
  if (query.sellerId) {
    // A seller asking for another seller's orders gets an empty page, never theirs.
    if (caller.role === 'seller' && query.sellerId !== caller.id) filter._id = { $exists: false };
    else filter['seller.id'] = query.sellerId;
  }
  if (query.status) filter.status = { $in: query.status };
  if (query.paymentStatus) filter.paymentStatus = query.paymentStatus;
  if (query.startDate || query.endDate) {
    filter.createdAt = {
      ...(query.startDate ? { $gte: new Date(`${query.startDate}T00:00:00.000Z`) } : {}),
      ...(query.endDate ? { $lte: new Date(`${query.endDate}T23:59:59.999Z`) } : {}),
    };
  }
  if (query.search) {
    // The same matches as the index (a scan on FerretDB): a result must not change with Redis's health.
    const search = searchFilter(query.search);
    if (!search) return { data: [], page: query.page, limit: query.limit, total: 0, totalPages: 0 };
    Object.assign(filter, search);
  }
  const [total, docs] = await Promise.all([
    Order.countDocuments(filter),
    Order.find(filter, VIEW_PROJECTION)
      .sort(SORTS[query.sort])
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .lean<OrderDoc[]>(),
  ]);
  return {
    data: (await withInventoryOutcomes(docs)).map(toPublicOrder),
    page: query.page,
    limit: query.limit,
    total,
    totalPages: Math.ceil(total / query.limit),
  };
}

/** Orders in the order of `ids`: from the cache, the rest by `_id` (which FerretDB serves from an index). */
async function ordersByIds(redis: Redis, ids: readonly string[]): Promise<PublicOrder[]> {
  const cached = await cachedOrders(redis, ids);
  const missing = ids.filter((id) => !cached.has(id));
  const loaded = await Promise.all(
    missing.map(async (id) => {
      const doc = await readOrder(id, VIEW_PROJECTION);
      if (!doc) return undefined;
      const order = toPublicOrder(doc);
      await cacheOrder(redis, order);
      return order;
    }),
  );
  for (const order of loaded) if (order) cached.set(order.id, order);
  return ids.flatMap((id) => cached.get(id) ?? []);
}

export function statsFor(redis: Redis, caller: Principal) {
  const scope: StatsScope =
    caller.role === 'customer' || caller.role === 'seller' ? { kind: caller.role, id: caller.id } : { kind: 'all' };
  return orderStats(redis, scope);
}

/**
 * `getOrder` as the JSON it answers: a cached order is sent as Redis holds it
 * (its text is `JSON.stringify` of the order, as `c.json` would make it), so
 * the cached read costs neither a parse (the access check reads the owners from
 * the text) nor a stringify.
 */
export async function getOrderJson(redis: Redis, caller: Principal, id: string): Promise<JsonText<PublicOrder>> {
  const raw = await cachedOrderJson(redis, id);
  if (!raw) return JSON.stringify(await getOrder(redis, caller, id, null));
  if (!canSeeOrder(caller, cachedOwners(raw))) throw notFound(id);
  return raw;
}

/** From the 5-minute cache when it holds the order, else MongoDB (which then refills it). */
export async function getOrder(
  redis: Redis,
  caller: Principal,
  id: string,
  /** What the cache held, when the caller looked already (null: nothing). */
  cached?: PublicOrder | null,
): Promise<PublicOrder> {
  let order = cached === undefined ? await cachedOrder(redis, id) : cached;
  if (!order) {
    const doc = await readOrder(id, VIEW_PROJECTION);
    if (!doc) throw notFound(id);
    order = toPublicOrder(doc);
    await cacheOrder(redis, order);
  }
  if (!canSeeOrder(caller, order)) throw notFound(id);
  return order;
}

// Staff may read any order, so their reads can use the per-field caches (1 h)
// directly; everyone else goes through the order, whose owner fields decide.
export async function getRemaining(redis: Redis, caller: Principal, id: string) {
  const cached = isStaff(caller) ? await cachedRemaining(redis, id) : undefined;
  return cached ?? remainingOf(await getOrder(redis, caller, id));
}

export async function getProgress(redis: Redis, caller: Principal, id: string) {
  const cached = isStaff(caller) ? await cachedProgress(redis, id) : undefined;
  return cached ?? progressOf(await getOrder(redis, caller, id));
}

// ---------------------------------------------------------------- lifecycle

/** Loads for a write: hides what the caller may not see, then applies `decide`. */
function guarded(
  caller: Principal,
  id: string,
  decide: (order: OrderDoc) => ReturnType<Parameters<typeof changeOrder>[2]>,
) {
  return (order: OrderDoc) => {
    if (!canSeeOrder(caller, order)) throw notFound(id);
    return decide(order);
  };
}

export async function confirmOrder(ctx: OrderWriteContext, caller: Principal, id: string, estimatedDelivery?: string) {
  const { order } = await changeOrder(
    ctx,
    id,
    guarded(caller, id, (current) => {
      if (!canTransition(current.status, 'confirmed')) throw illegal(current, 'confirm');
      return {
        set: {
          status: 'confirmed',
          confirmedAt: new Date(),
          ...(estimatedDelivery ? { estimatedDelivery: new Date(estimatedDelivery) } : {}),
        },
        jobs: ['announce-status', 'warm-order'],
      };
    }),
  );
  return toPublicOrder(order);
}

/**
 * `PUT /orders/{id}/status`: only the statuses that are not derived from
 * deliveries and payments, which leaves `confirmed` (as `/confirm`, without a
 * new estimated delivery); cancelling has endpoints of its own (400 points to
 * them), and every derived status is refused with 409 naming the rule.
 */
export async function setOrderStatus(ctx: OrderWriteContext, caller: Principal, id: string, status: OrderStatus) {
  if (status === 'cancelled') {
    throw new AppError('validation', 'cancel with PATCH /api/orders/{id}/cancel or DELETE /api/orders/{id}', {
      errors: [{ path: 'status', message: 'use the cancel endpoints' }],
    });
  }
  if (DERIVED_STATUSES.includes(status)) {
    throw new AppError(
      'conflict',
      `${status} is derived from the order's deliveries and payments and cannot be set by hand: ` +
        'schedule and update deliveries (/api/orders/{id}/deliveries) and record payments instead',
      { extra: { requestedStatus: status, derivedStatuses: DERIVED_STATUSES } },
    );
  }
  const { order } = await changeOrder(
    ctx,
    id,
    guarded(caller, id, (current) => {
      if (!canTransition(current.status, status)) throw illegal(current, `move it to ${status}`);
      return { set: { status }, jobs: ['announce-status', 'warm-order'] };
    }),
  );
  return toPublicOrder(order);
}

/** Cancels and owes the inventory restore. Cancelling a cancelled order changes nothing and says so with 200. */
export async function cancelOrder(ctx: OrderWriteContext, caller: Principal, id: string, reason?: string) {
  const { order } = await changeOrder(
    ctx,
    id,
    guarded(caller, id, (current) => {
      if (current.status === 'cancelled') return null;
      if (caller.role === 'customer' && !['pending', 'confirmed'].includes(current.status)) {
        throw illegal(current, 'cancel (customers may cancel only pending or confirmed orders)');
      }
      if (caller.role === 'staff') throw new AppError('forbidden', 'staff cannot cancel orders');
      if (!isCancellable(current.status, current.deliveredUnits)) throw illegal(current, 'cancel');
      return {
        set: {
          status: 'cancelled',
          cancelledAt: new Date(),
          ...(reason ? { cancelReason: reason } : {}),
        },
        jobs: ['restore-inventory', 'announce-status', 'warm-order'],
      };
    }),
  );
  return toPublicOrder(order);
}
