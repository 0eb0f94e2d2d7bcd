import type { Redis } from 'ioredis';
import { cacheLookups } from '../lib/metrics.js';
import { withLuaCommand } from '../lib/redis.js';
import { defineIndexScript, indexedFields, pipelineIndexOrder } from './order-index.js';
import type { progressOf } from './order-view.js';
import { remainingOf, type PublicOrder } from './order-view.js';
import { inventoryRank } from './inventory-outcome.js';

/**
 * Redis caches of order reads, keyed as in the design document:
 *   order:{id}                          the order (5 min)
 *   order:{id}:status, :progress        (1 h)
 *   order:{id}:remaining                per-product totals (1 h)
 *   order:{id}:item:{itemId}:remaining  (1 h)
 *   order:{id}:version                  "version:rank", the state the keys above hold
 * A state is ordered by the order's version and, separately, by its inventory
 * rank (inventory-outcome.ts: the reduction's outcome is recorded without a new
 * version). Every write goes through a Lua script that writes a state only
 * when it is at least as far along in both, so a slow reader can never put back
 * what a writer just replaced. Two states each ahead in one (a change written
 * while the outcome was being recorded) are both behind the stored order: the
 * script refuses the second, whose writer caches the order as stored instead
 * (`cacheOrders` answers false for it; `cacheAsStored`): a read of the stored
 * order is at least as far along in both as any state ever cached. An outcome is cached only on the
 * version it was decided on (`cacheOutcomes`), and keeps the keys derived from
 * the version (status, progress, remaining) as they are.
 * Every call tolerates Redis being down: callers fall back to MongoDB, which
 * is always right.
 */

const ORDER_TTL_S = 5 * 60;
const DERIVED_TTL_S = 60 * 60;

const key = {
  version: (id: string) => `order:${id}:version`,
  order: (id: string) => `order:${id}`,
  status: (id: string) => `order:${id}:status`,
  progress: (id: string) => `order:${id}:progress`,
  remaining: (id: string) => `order:${id}:remaining`,
  item: (id: string, itemId: string) => `order:${id}:item:${itemId}:remaining`,
};

// How far along a cached state is: "version:rank" (a bare version, from before ranks: rank 0).
const CURRENT_STATE = `
local function currentState(key)
  local current = redis.call('GET', key)
  if not current then return nil end
  local v, r = string.match(current, '^(%d+):?(%d*)$')
  return tonumber(v) or 0, tonumber(r) or 0
end
`;

// KEYS[1] = version key; KEYS[2..] = the order and the keys derived from it. ARGV[1] = version,
// ARGV[2] = inventory rank, ARGV[3] = long TTL, ARGV[4..] = pairs of (ttl, value) for KEYS[2..].
// Answers 1 written (the same state is written again: the order's key may have expired before
// the version's), 0 a state further along is cached, 2 refused (see above).
const SET_IF_NEWER = `${CURRENT_STATE}
local version, rank = tonumber(ARGV[1]), tonumber(ARGV[2])
local v, r = currentState(KEYS[1])
if v then
  if v >= version and r >= rank and (v > version or r > rank) then return 0 end
  if v > version or r > rank then return 2 end
end
redis.call('SET', KEYS[1], version .. ':' .. rank, 'EX', ARGV[3])
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i + 1], 'EX', ARGV[2 * i])
end
return 1`;

// An inventory outcome on the version it was decided on: KEYS[1] = version key, KEYS[2] = the
// order; ARGV[1] = version, ARGV[2] = rank, ARGV[3] = the order's TTL, ARGV[4] = the order.
// Only raises the rank of that version, cached: the keys derived from the version stay as they
// are. Answers 1 written, 0 a state further along is cached, 2 refused: nothing cached, or
// another version (the view it was decided on may be behind the stored order).
const SET_OUTCOME = `${CURRENT_STATE}
local version, rank = tonumber(ARGV[1]), tonumber(ARGV[2])
local v, r = currentState(KEYS[1])
if not v then return 2 end
if v >= version and r >= rank then return 0 end
if v ~= version then return 2 end
redis.call('SET', KEYS[1], version .. ':' .. rank, 'KEEPTTL')
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[3])
return 1`;

/**
 * Writes every cache of `order` and files it in the list index, unless Redis
 * already holds a state further along. True when Redis holds this state or one
 * further along (whose writer cached it); false when Redis could not be
 * written, or refused the state as behind the stored order: the caller then
 * caches the order as stored (or leaves it to the owed `warm-order` job).
 * Never throws.
 */
export async function cacheOrder(redis: Redis, order: PublicOrder): Promise<boolean> {
  const [cached] = await cacheOrders(redis, [order]);
  return cached!;
}

/** `cacheOrder` for many orders, in one round trip (one pipeline); one answer per order. */
export async function cacheOrders(redis: Redis, orders: readonly PublicOrder[]): Promise<boolean[]> {
  if (!orders.length) return [];
  try {
    // Both scripts must be defined on the client before its pipeline is made.
    defineIndexScript(redis);
    const pipeline = withLuaCommand(redis, 'setOrderIfNewer', SET_IF_NEWER).pipeline();
    for (const order of orders) {
      const [keys, args] = cacheArgs(order);
      (pipeline as unknown as Record<'setOrderIfNewer', (...a: unknown[]) => unknown>).setOrderIfNewer(
        keys.length,
        ...keys,
        ...args,
      );
      pipelineIndexOrder(pipeline, indexedFields(order));
    }
    const replies = (await pipeline.exec()) ?? [];
    if (replies.length !== 2 * orders.length) return orders.map(() => false);
    // Per order: its cache write (2 when refused) and its filing.
    return orders.map((_, i) => {
      const [error, written] = replies[2 * i]!;
      return !error && written !== 2 && !replies[2 * i + 1]![0];
    });
  } catch {
    return orders.map(() => false);
  }
}

/**
 * Caches inventory outcomes (inventory-outcome.ts), each on the version its
 * order was cached at when the outcome was decided: one round trip, and only
 * `order:{id}` and the state are written (nothing the list index files
 * changed). False for an order whose cache is gone or holds another version,
 * or when Redis could not be written: its writer then caches the order as
 * stored (`cacheAsStored`). Never throws.
 */
export async function cacheOutcomes(redis: Redis, orders: readonly PublicOrder[]): Promise<boolean[]> {
  if (!orders.length) return [];
  try {
    const pipeline = withLuaCommand(redis, 'setOrderOutcome', SET_OUTCOME).pipeline();
    for (const order of orders) {
      (pipeline as unknown as Record<'setOrderOutcome', (...a: unknown[]) => unknown>).setOrderOutcome(
        2,
        key.version(order.id),
        key.order(order.id),
        order.version,
        inventoryRank(order.inventoryStatus),
        ORDER_TTL_S,
        JSON.stringify(order),
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    return orders.map((_, i) => {
      const [error, written] = replies[i] ?? [new Error('no reply')];
      return !error && written !== 2;
    });
  } catch {
    return orders.map(() => false);
  }
}

/** The keys and arguments of SET_IF_NEWER for `order`'s caches. */
function cacheArgs(order: PublicOrder): [string[], Array<string | number>] {
  const entries: Array<[string, number, string]> = [
    [key.order(order.id), ORDER_TTL_S, JSON.stringify(order)],
    [key.status(order.id), DERIVED_TTL_S, order.status],
    [key.progress(order.id), DERIVED_TTL_S, String(order.progress)],
    [key.remaining(order.id), DERIVED_TTL_S, JSON.stringify(remainingOf(order).items)],
    ...order.items.map((item): [string, number, string] => [
      key.item(order.id, item.id),
      DERIVED_TTL_S,
      String(item.remainingQuantity),
    ]),
  ];
  return [
    [key.version(order.id), ...entries.map(([k]) => k)],
    [
      order.version,
      inventoryRank(order.inventoryStatus),
      DERIVED_TTL_S,
      ...entries.flatMap(([, ttl, value]) => [ttl, value]),
    ],
  ];
}

async function getOrUndefined(redis: Redis, k: string): Promise<string | undefined> {
  try {
    return (await redis.get(k)) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The cached orders among `ids`, by id; one round trip. */
export async function cachedOrders(redis: Redis, ids: readonly string[]): Promise<Map<string, PublicOrder>> {
  const found = new Map<string, PublicOrder>();
  if (!ids.length) return found;
  try {
    const raws = await redis.mget(...ids.map(key.order));
    raws.forEach((raw, i) => {
      cacheLookups.inc({ cache: 'order', result: raw ? 'hit' : 'miss' });
      if (raw) found.set(ids[i]!, JSON.parse(raw) as PublicOrder);
    });
  } catch {
    // Redis is down: every order comes from MongoDB.
  }
  return found;
}

export async function cachedOrder(redis: Redis, id: string): Promise<PublicOrder | undefined> {
  const raw = await cachedOrderJson(redis, id);
  return raw ? (JSON.parse(raw) as PublicOrder) : undefined;
}

/** The cached order as the JSON text it is stored as (`JSON.stringify` of its public view). */
export async function cachedOrderJson(redis: Redis, id: string): Promise<string | undefined> {
  const raw = await getOrUndefined(redis, key.order(id));
  cacheLookups.inc({ cache: 'order', result: raw ? 'hit' : 'miss' });
  return raw;
}

// In JSON text a quote inside a string is escaped (`\"`), so these can only match an object's
// key; the first match is the order's own, as every field before it is a string (order-view.ts).
const CUSTOMER_ID = /"customer":\{"id":"([0-9a-f]{24})"/;
const SELLER_ID = /"seller":\{"id":"([0-9a-f]{24})"/;

/**
 * Who owns a cached order, read from its JSON text (`cachedOrderJson`) without
 * parsing it: parsing a whole order for the access check was 6% of the API's
 * CPU under cached reads. Text of another shape is parsed.
 */
export function cachedOwners(raw: string): { customer: { id: string }; seller: { id: string } } {
  const customer = CUSTOMER_ID.exec(raw)?.[1];
  const seller = SELLER_ID.exec(raw)?.[1];
  if (customer && seller) return { customer: { id: customer }, seller: { id: seller } };
  const order = JSON.parse(raw) as PublicOrder;
  return { customer: { id: order.customer.id }, seller: { id: order.seller.id } };
}

/** Status and progress from their own keys (1 h), without the whole order. */
export async function cachedProgress(redis: Redis, id: string): Promise<ReturnType<typeof progressOf> | undefined> {
  try {
    const [status, progress] = await redis.mget(key.status(id), key.progress(id));
    if (status == null || progress == null) return undefined;
    return { orderId: id, progress: Number(progress), status: status as PublicOrder['status'] };
  } catch {
    return undefined;
  }
}

export async function cachedRemaining(redis: Redis, id: string): Promise<ReturnType<typeof remainingOf> | undefined> {
  const raw = await getOrUndefined(redis, key.remaining(id));
  return raw ? { orderId: id, items: JSON.parse(raw) } : undefined;
}

export const orderCacheKeys = key;
