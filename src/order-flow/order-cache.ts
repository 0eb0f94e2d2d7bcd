import type { Redis } from 'ioredis';
import { cacheLookups } from '../lib/metrics.js';
import { withLuaCommand } from '../lib/redis.js';
import { defineIndexScript, indexedFields, pipelineIndexOrder } from './order-index.js';
import type { progressOf } from './order-view.js';
import { remainingOf, type PublicOrder } from './order-view.js';

/**
 * Redis caches of order reads, keyed as in the design document:
 *   order:{id}                          the order (5 min)
 *   order:{id}:status, :progress        (1 h)
 *   order:{id}:remaining                per-product totals (1 h)
 *   order:{id}:item:{itemId}:remaining  (1 h)
 *   order:{id}:version                  the order version the keys above hold
 * Every write goes through one Lua script that refuses to replace a newer
 * version with an older one, so a slow reader can never put back what a writer
 * just replaced. Every call tolerates Redis being down: callers fall back to
 * MongoDB, which is always right.
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

// KEYS[1] = version key; KEYS[2..] = value keys. ARGV[1] = version, ARGV[2] = long TTL,
// ARGV[3..] = pairs of (ttl, value) for KEYS[2..].
const SET_IF_NEWER = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i], 'EX', ARGV[2 * i - 1])
end
return 1`;

/**
 * Writes every cache of `order` and files it in the list index, unless Redis
 * already holds a newer version. True when Redis holds this version or a newer
 * one (whose writer cached it), false when Redis could not be written. Never throws.
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
    // Per order: its cache write (0 when a newer version is cached already) and its filing.
    return orders.map(
      (_, i) => !replies[2 * i]?.[0] && !replies[2 * i + 1]?.[0] && replies.length === 2 * orders.length,
    );
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
    [order.version, DERIVED_TTL_S, ...entries.flatMap(([, ttl, value]) => [ttl, value])],
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
