import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import { withLuaCommand } from '../lib/redis.js';
import type { Principal } from '../lib/tokens.js';
import { COMPLETED_STATUSES, IN_PROGRESS_STATUSES, OPEN_STATUSES, ORDER_STATUSES } from './order-status.js';
import type { OrderStats, StatsScope } from './order-stats.js';
import type { PublicOrder } from './order-view.js';
import { Order, type OrderDoc } from './order.model.js';
import type { ListOrdersQuery } from '../features/orders/orders.schemas.js';

/**
 * A read model of the order lists in Redis: sorted sets of order ids scored by
 * creation time, per scope (everyone's, one seller's, one customer's) and per
 * status, plus "unpaid and not cancelled" for the dashboard counters.
 *
 * Why: FerretDB pushes only `{_id}` filters down to its storage, so every other
 * query decodes the whole collection (measured: ~0.9 ms per order document, so a
 * page of a 100,000-order list took about 90 s). Lists and stats read ids here
 * and orders by `_id`, which FerretDB serves from an index. On MongoDB the same
 * reads are merely cheaper than the indexed queries they replace.
 *
 * Kept by the order cache's write-through (every order write, and the owed
 * `warm-order` job when that failed), guarded by version like the caches, so it
 * never moves backwards. It is a cache: lists and stats fall back to MongoDB
 * while it is not built (a fresh or flushed Redis), or Redis is down, and the
 * maintenance job `rebuild-order-index` rebuilds it from MongoDB then.
 *
 *   {ns}:index:entries                     hash id → "version|status|unpaid"
 *   {ns}:index:{scope}                     every order of the scope
 *   {ns}:index:{scope}:status:{status}     by status
 *   {ns}:index:{scope}:unpaid              unpaid and not cancelled
 *   {ns}:index:ready                       set once a rebuild finished
 * where {scope} is `all`, `seller:{id}` or `customer:{id}`, and {ns} is the
 * deployment's QUEUE_PREFIX: unlike the per-order caches, "all orders" must
 * not mix two deployments that share a Redis.
 */

let namespace = 'orders';

/** Set once per process, at start, from QUEUE_PREFIX (like mongoose's one connection). */
export function useOrderIndexNamespace(prefix: string): void {
  namespace = prefix;
}

export const orderIndexKeys = () => ({
  entries: `${namespace}:index:entries`,
  ready: `${namespace}:index:ready`,
  /** Every key of the index, for SCAN. */
  pattern: `${namespace}:index:*`,
});

type Scope = 'all' | `seller:${string}` | `customer:${string}`;
const scopeKey = (scope: Scope) => `${namespace}:index:${scope}`;
const statusKey = (scope: Scope, status: string) => `${scopeKey(scope)}:status:${status}`;
const unpaidKey = (scope: Scope) => `${scopeKey(scope)}:unpaid`;

// KEYS[1] = entries hash. ARGV: id, version, score, status, unpaid (1/0), then scope keys.
// The status and unpaid keys are derived from the scope keys here, so the
// script touches keys it was not passed: fine on one Redis, not on a cluster.
const INDEX_ORDER = `
local id, version, score, status, unpaid = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local previous = redis.call('HGET', KEYS[1], id)
local oldStatus, oldUnpaid
if previous then
  local v, s, u = string.match(previous, '^(%d+)|([^|]*)|(%d)$')
  if tonumber(v) > version then return 0 end
  oldStatus, oldUnpaid = s, u
end
for i = 6, #ARGV do
  local scope = ARGV[i]
  redis.call('ZADD', scope, score, id)
  if oldStatus and oldStatus ~= status then redis.call('ZREM', scope .. ':status:' .. oldStatus, id) end
  redis.call('ZADD', scope .. ':status:' .. status, score, id)
  if unpaid == '1' then
    redis.call('ZADD', scope .. ':unpaid', score, id)
  elseif oldUnpaid == '1' then
    redis.call('ZREM', scope .. ':unpaid', id)
  end
end
redis.call('HSET', KEYS[1], id, ARGV[2] .. '|' .. status .. '|' .. unpaid)
return 1`;

const withScript = (redis: Redis) => withLuaCommand(redis, 'indexOrder', INDEX_ORDER);

/** The fields of an order the index files it by. */
export interface IndexedOrder {
  id: string;
  version: number;
  createdAt: string | Date;
  status: string;
  paymentStatus: string;
  sellerId: string;
  customerId: string;
}

export const indexedFields = (order: PublicOrder): IndexedOrder => ({
  id: order.id,
  version: order.version,
  createdAt: order.createdAt,
  status: order.status,
  paymentStatus: order.paymentStatus,
  sellerId: order.seller.id,
  customerId: order.customer.id,
});

function indexArgs(order: IndexedOrder): Array<string | number> {
  const unpaid = order.paymentStatus === 'unpaid' && order.status !== 'cancelled' ? '1' : '0';
  const scopes: Scope[] = ['all', `seller:${order.sellerId}`, `customer:${order.customerId}`];
  return [
    orderIndexKeys().entries,
    order.id,
    order.version,
    new Date(order.createdAt).getTime(),
    order.status,
    unpaid,
    ...scopes.map(scopeKey),
  ];
}

/** Files the order under its current status; an older version than the one filed changes nothing. Never throws. */
export async function indexOrder(redis: Redis, order: IndexedOrder): Promise<boolean> {
  try {
    await withScript(redis).indexOrder(1, ...indexArgs(order));
    return true;
  } catch {
    return false;
  }
}

async function isReady(redis: Redis): Promise<boolean> {
  try {
    return (await redis.exists(orderIndexKeys().ready)) === 1;
  } catch {
    return false;
  }
}

/**
 * Files every order, then marks the index ready. Safe beside live writes: each
 * entry is version-guarded, so a rebuild that read an order before a change
 * cannot file it under its old status. Returns the number of orders filed.
 */
export async function rebuildOrderIndex(redis: Redis, log?: Logger): Promise<number> {
  if (await isReady(redis)) return 0;
  const started = Date.now();
  const cursor = Order.find(
    {},
    { version: 1, createdAt: 1, status: 1, paymentStatus: 1, 'seller.id': 1, 'customer.id': 1 },
  )
    .lean<OrderDoc[]>()
    .cursor({ batchSize: 1_000 });
  const script = withScript(redis);
  let batch = script.pipeline() as ReturnType<Redis['pipeline']> & { indexOrder(...args: unknown[]): unknown };
  let filed = 0;
  for await (const doc of cursor as AsyncIterable<OrderDoc>) {
    batch.indexOrder(
      1,
      ...indexArgs({
        id: doc._id.toHexString(),
        version: doc.version,
        createdAt: doc.createdAt,
        status: doc.status,
        paymentStatus: doc.paymentStatus,
        sellerId: doc.seller.id.toHexString(),
        customerId: doc.customer.id.toHexString(),
      }),
    );
    if (++filed % 500 === 0) {
      await runPipeline(batch);
      batch = script.pipeline() as typeof batch;
    }
  }
  if (filed % 500) await runPipeline(batch);
  await redis.set(orderIndexKeys().ready, new Date().toISOString());
  log?.info({ orders: filed, ms: Date.now() - started }, 'order index rebuilt');
  return filed;
}

async function runPipeline(pipeline: ReturnType<Redis['pipeline']>) {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}

// ---------------------------------------------------------------- reads

export interface IndexPage {
  ids: string[];
  total: number;
}

/**
 * The ids of one page of `GET /orders`, newest (or oldest) first, or undefined
 * when the index cannot answer (not built, Redis down, or a filter it does not
 * keep: search, payment status, sort by amount or number, a customer asking for
 * one seller); the caller then asks MongoDB.
 */
export async function pageFromIndex(
  redis: Redis,
  caller: Principal,
  query: ListOrdersQuery,
): Promise<IndexPage | undefined> {
  if (query.search || query.paymentStatus) return undefined;
  if (query.sort !== '-createdAt' && query.sort !== 'createdAt') return undefined;
  let scope: Scope;
  if (caller.role === 'customer') {
    if (query.sellerId) return undefined;
    scope = `customer:${caller.id}`;
  } else if (caller.role === 'seller') {
    if (query.sellerId && query.sellerId !== caller.id) return { ids: [], total: 0 };
    scope = `seller:${caller.id}`;
  } else {
    scope = query.sellerId ? `seller:${query.sellerId}` : 'all';
  }
  const keys = query.status ? [...new Set(query.status)].map((status) => statusKey(scope, status)) : [scopeKey(scope)];
  const min = query.startDate ? String(Date.parse(`${query.startDate}T00:00:00.000Z`)) : '-inf';
  const max = query.endDate ? String(Date.parse(`${query.endDate}T23:59:59.999Z`)) : '+inf';
  const newestFirst = query.sort === '-createdAt';
  const offset = (query.page - 1) * query.limit;
  // One key: the page itself. Several statuses: the first offset+limit of each, merged here.
  const take = keys.length === 1 ? [offset, query.limit] : [0, offset + query.limit];
  const range = newestFirst ? [max, min, 'BYSCORE', 'REV'] : [min, max, 'BYSCORE'];

  const replies = await readIfReady(redis, (pipeline) => {
    for (const key of keys) {
      pipeline.zcount(key, min, max);
      pipeline.call('ZRANGE', key, ...range, 'LIMIT', ...take.map(String), 'WITHSCORES');
    }
  });
  if (!replies) return undefined;
  let total = 0;
  const entries: Array<{ id: string; score: number }> = [];
  for (let i = 0; i < replies.length; i += 2) {
    total += Number(replies[i]);
    entries.push(...withScores(replies[i + 1]));
  }
  if (keys.length === 1) return { ids: entries.map((e) => e.id), total };
  // The order MongoDB would give: by time, then by id (ObjectId hex sorts as the ObjectId).
  const sign = newestFirst ? -1 : 1;
  entries.sort((a, b) => sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  return { ids: entries.slice(offset, offset + query.limit).map((e) => e.id), total };
}

/**
 * The replies of the reads `build` queues, in one round trip with the check
 * that the index is built; undefined when it is not, or Redis fails.
 */
async function readIfReady(
  redis: Redis,
  build: (pipeline: ReturnType<Redis['pipeline']>) => void,
): Promise<unknown[] | undefined> {
  try {
    const pipeline = redis.pipeline().exists(orderIndexKeys().ready);
    build(pipeline);
    const results = (await pipeline.exec()) ?? [];
    if (results.some(([error]) => error) || results[0]?.[1] !== 1) return undefined;
    return results.slice(1).map(([, reply]) => reply);
  } catch {
    return undefined;
  }
}

// WITHSCORES replies come flat (RESP2) or as [member, score] pairs (RESP3).
function withScores(reply: unknown): Array<{ id: string; score: number }> {
  const items = reply as Array<string | [string, string | number]>;
  if (items.length && Array.isArray(items[0])) {
    return (items as Array<[string, string | number]>).map(([id, score]) => ({ id, score: Number(score) }));
  }
  const flat = items as string[];
  const entries: Array<{ id: string; score: number }> = [];
  for (let j = 0; j < flat.length; j += 2) entries.push({ id: flat[j]!, score: Number(flat[j + 1]) });
  return entries;
}

/** Dashboard counters from the index, or undefined when it cannot answer. */
export async function statsFromIndex(redis: Redis, scope: StatsScope): Promise<OrderStats | undefined> {
  const key: Scope = scope.kind === 'all' ? 'all' : `${scope.kind}:${scope.id}`;
  const replies = await readIfReady(redis, (pipeline) => {
    for (const status of ORDER_STATUSES) pipeline.zcard(statusKey(key, status));
    pipeline.zcard(unpaidKey(key));
  });
  if (!replies) return undefined;
  const counts = new Map(ORDER_STATUSES.map((status, i) => [status, Number(replies[i])]));
  const sum = (statuses: readonly string[]) =>
    statuses.reduce((total, status) => total + (counts.get(status as never) ?? 0), 0);
  return {
    totalOrders: sum(ORDER_STATUSES),
    openOrders: sum(OPEN_STATUSES),
    inProgressOrders: sum(IN_PROGRESS_STATUSES),
    completedOrders: sum(COMPLETED_STATUSES),
    cancelledOrders: sum(['cancelled']),
    unpaidOrders: Number(replies.at(-1)),
  };
}
