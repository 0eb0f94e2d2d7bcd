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
 *   {ns}:index:ready:v2                    set once a rebuild finished
 * where {scope} is `all`, `seller:{id}` or `customer:{id}`, and {ns} is the
 * deployment's QUEUE_PREFIX: unlike the per-order caches, "all orders" must
 * not mix two deployments that share a Redis.
 *
 * The same script, in the same call, files what `search=` finds an order by
 * (read by order-search.ts; what each term means is defined by the functions
 * below, and mirrored for MongoDB by `searchFilter` there):
 *   {ns}:index:search:numbers              lex set of "ORDERNUMBER|id" (ASCII upper-cased), for prefixes
 *   {ns}:index:search:codes                lex set of "7K3QX9|id", the random part of ORD-YYYYMMDD-7K3QX9
 *   {ns}:index:search:phone:{digits}       the orders with that phone (digits only), by creation time
 *   {ns}:index:search:email:{email}        the orders with that email (ASCII lower-cased), by creation time
 *   {ns}:index:search:word:{status}:{word}  the orders of that status whose customer name has that word
 *   {ns}:index:search:irregular            orders whose number is not ORD-<UTC day of creation>-…
 *   {ns}:index:search:orders               hash id → "wordStatus|paymentStatus|totalAmount|orderNumber|words"
 * Number, name, phone, email and amount never change after placement, so they
 * are filed once (the first call that has them) and later versions only
 * rewrite the hash entry and, when the status changed, move the name words
 * (two commands per word). Name words are split by status, so that an admin's
 * search for a word that 50,000 orders share reads a page of the word's sets
 * instead of intersecting 50,000 ids with a status set. The ready key is `:v2`
 * because a Redis indexed by the previous version has no search sets: it must
 * count as not built until the maintenance job has refiled every order.
 */

let namespace = 'orders';

/** Set once per process, at start, from QUEUE_PREFIX (like mongoose's one connection). */
export function useOrderIndexNamespace(prefix: string): void {
  namespace = prefix;
}

export const orderIndexKeys = () => ({
  entries: `${namespace}:index:entries`,
  ready: `${namespace}:index:ready:v2`,
  /** Every key of the index, for SCAN. */
  pattern: `${namespace}:index:*`,
});

export type Scope = 'all' | `seller:${string}` | `customer:${string}`;
export const scopeKey = (scope: Scope) => `${namespace}:index:${scope}`;
export const statusKey = (scope: Scope, status: string) => `${scopeKey(scope)}:status:${status}`;
const unpaidKey = (scope: Scope) => `${scopeKey(scope)}:unpaid`;
/** The prefix of every search key; the scripts append the names listed above. */
export const searchPrefix = () => `${namespace}:index:search:`;

// ---------------------------------------------------------------- search terms

// Whitespace and "letters" as both the index and MongoDB's regexes (PCRE, and
// Go's regexp on FerretDB) understand them: the same classes in all three.
export const WHITESPACE_CLASS = '\\t\\n\\f\\r \\p{Z}';
export const WORD_CHAR_CLASS = '\\p{L}\\p{N}\\p{M}';
const WHITESPACE = new RegExp(`[${WHITESPACE_CLASS}]+`, 'u');
const NOT_WORD_CHARS = new RegExp(`[^${WORD_CHAR_CLASS}]+`, 'u');
/** At most this many words of one name are filed (a name has at most 100 characters). */
const MAX_NAME_WORDS = 32;

/** Case-folds A-Z only: exactly what a `[aA]` regex class matches, so the index and MongoDB agree. */
export const asciiUpper = (text: string) => text.replace(/[a-z]+/g, (s) => s.toUpperCase());
export const asciiLower = (text: string) => text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
export const phoneDigits = (phone: string) => phone.replace(/[^0-9]+/g, '');

/**
 * The words a customer name is found by, lower-cased: each whitespace-separated
 * token with its punctuation removed ("O'Neil" → "oneil", "(VIP)" → "vip"), and
 * each run of letters and digits inside it ("o", "neil"), so "neil" and
 * "o'neil" both find "Zara O'Neil".
 */
export function nameWords(name: string): string[] {
  const words = new Set<string>();
  for (const token of name.toLowerCase().split(WHITESPACE)) {
    const parts = token.split(NOT_WORD_CHARS).filter(Boolean);
    if (!parts.length) continue;
    words.add(parts.join(''));
    for (const part of parts) words.add(part);
    if (words.size >= MAX_NAME_WORDS) break;
  }
  return [...words].slice(0, MAX_NAME_WORDS);
}

/** The words of a search: each token with its punctuation removed; punctuation alone is no word. */
export function queryWords(text: string): string[] {
  const words = text
    .toLowerCase()
    .split(WHITESPACE)
    .map((token) => token.split(NOT_WORD_CHARS).join(''))
    .filter(Boolean);
  return [...new Set(words)];
}

/** `ORD-20261122-7K3QX9` (order-numbers.ts), once ASCII upper-cased: the day and the random code. */
export const ORDER_NUMBER_SHAPE = /^ORD-([0-9]{8})-([0-9A-Z]+)$/;

/** YYYYMMDD of a time, in UTC (as order numbers carry it). */
export const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10).replaceAll('-', '');

/** The fields search files an order under; none of them changes after placement. */
export interface SearchFields {
  orderNumber: string;
  totalAmount: number;
  customerName: string;
  customerEmail: string;
  customerPhone?: string | undefined;
}

function searchArgs(fields: SearchFields, createdAt: number): string[] {
  const number = asciiUpper(fields.orderNumber);
  const shape = ORDER_NUMBER_SHAPE.exec(number);
  // Regular: the number's day is the day the order was created, so a prefix of
  // "ORD-YYYYMMDD" is a range of creation times (order-search.ts); every other
  // order is listed here, so that search can look at them one by one.
  const regular = shape?.[1] === utcDay(createdAt);
  return [
    fields.orderNumber,
    number,
    String(fields.totalAmount),
    nameWords(fields.customerName).join(' '),
    fields.customerPhone ? phoneDigits(fields.customerPhone) : '',
    asciiLower(fields.customerEmail),
    shape?.[2] ?? '',
    regular ? '0' : '1',
  ];
}

// KEYS[1] = entries hash. ARGV: id, version, score, status, unpaid (1/0),
// paymentStatus, search prefix, number of scope keys, the scope keys, then
// (optional) the search fields of `searchArgs`.
// The status, unpaid and search keys are derived from the arguments here, so
// the script touches keys it was not passed: fine on one Redis, not on a cluster.
const INDEX_ORDER = `
local id, version, score, status, unpaid, pay, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local scopes = tonumber(ARGV[8])
local previous = redis.call('HGET', KEYS[1], id)
local oldStatus, oldUnpaid
if previous then
  local v, s, u = string.match(previous, '^(%d+)|([^|]*)|(%d)$')
  if tonumber(v) > version then return 0 end
  oldStatus, oldUnpaid = s, u
end
-- Sets are scored by creation time, which never changes: a version that moved neither
-- the status nor "unpaid" (an inventory outcome, a delivery's progress) is filed where
-- it was already, and only its entry changes.
local moved = oldStatus ~= status or oldUnpaid ~= unpaid
for i = 9, (moved and 8 + scopes or 8) do
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

local orders = prefix .. 'orders'
local filed = redis.call('HGET', orders, id)
local wordStatus, amount, number, words
if filed then
  wordStatus, amount, number, words = string.match(filed, '^([^|]*)|[^|]*|([^|]*)|(.*)|([^|]*)$')
end
if not words then
  local s = 9 + scopes
  if #ARGV < s then return 1 end
  number, amount, words = ARGV[s], ARGV[s + 2], ARGV[s + 3]
  local upper, phone, email, code, irregular = ARGV[s + 1], ARGV[s + 4], ARGV[s + 5], ARGV[s + 6], ARGV[s + 7]
  redis.call('ZADD', prefix .. 'numbers', 0, upper .. '|' .. id)
  if code ~= '' then redis.call('ZADD', prefix .. 'codes', 0, code .. '|' .. id) end
  if phone ~= '' then redis.call('ZADD', prefix .. 'phone:' .. phone, score, id) end
  if email ~= '' then redis.call('ZADD', prefix .. 'email:' .. email, score, id) end
  if irregular == '1' then redis.call('ZADD', prefix .. 'irregular', score, id) end
end
if wordStatus ~= status then
  for word in string.gmatch(words, '[^ ]+') do
    if wordStatus then redis.call('ZREM', prefix .. 'word:' .. wordStatus .. ':' .. word, id) end
    redis.call('ZADD', prefix .. 'word:' .. status .. ':' .. word, score, id)
  end
end
redis.call('HSET', orders, id, status .. '|' .. pay .. '|' .. amount .. '|' .. number .. '|' .. words)
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
  /** Filed by the first call that has them (they never change); later calls may leave them out. */
  search?: SearchFields;
}

export const indexedFields = (order: PublicOrder): IndexedOrder => ({
  id: order.id,
  version: order.version,
  createdAt: order.createdAt,
  status: order.status,
  paymentStatus: order.paymentStatus,
  sellerId: order.seller.id,
  customerId: order.customer.id,
  search: {
    orderNumber: order.orderNumber,
    totalAmount: order.totalAmount,
    customerName: order.customer.name,
    customerEmail: order.customer.email,
    customerPhone: order.customer.phone,
  },
});

function indexArgs(order: IndexedOrder): Array<string | number> {
  const unpaid = order.paymentStatus === 'unpaid' && order.status !== 'cancelled' ? '1' : '0';
  const scopes: Scope[] = ['all', `seller:${order.sellerId}`, `customer:${order.customerId}`];
  const createdAt = new Date(order.createdAt).getTime();
  return [
    orderIndexKeys().entries,
    order.id,
    order.version,
    createdAt,
    order.status,
    unpaid,
    order.paymentStatus,
    searchPrefix(),
    scopes.length,
    ...scopes.map(scopeKey),
    ...(order.search ? searchArgs(order.search, createdAt) : []),
  ];
}

/**
 * Defines the index script on `redis`: a pipeline has the client's scripts as
 * of its creation, so callers that batch filing with other commands call this
 * before making the pipeline they give `pipelineIndexOrder`.
 */
export const defineIndexScript = (redis: Redis): void => void withScript(redis);

/** Adds filing `order` to a pipeline made after `defineIndexScript`. */
export function pipelineIndexOrder(pipeline: ReturnType<Redis['pipeline']>, order: IndexedOrder): void {
  (pipeline as unknown as { indexOrder(...args: unknown[]): unknown }).indexOrder(1, ...indexArgs(order));
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
 * Files every order (search terms included), then marks the index ready. Safe
 * beside live writes: each entry is version-guarded, so a rebuild that read an
 * order before a change cannot file it under its old status. Returns the
 * number of orders filed.
 */
export async function rebuildOrderIndex(redis: Redis, log?: Logger): Promise<number> {
  if (await isReady(redis)) return 0;
  const started = Date.now();
  const cursor = Order.find(
    {},
    {
      version: 1,
      createdAt: 1,
      status: 1,
      paymentStatus: 1,
      'seller.id': 1,
      'customer.id': 1,
      orderNumber: 1,
      totalAmount: 1,
      'customer.name': 1,
      'customer.email': 1,
      'customer.phone': 1,
    },
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
        search: {
          orderNumber: doc.orderNumber,
          totalAmount: doc.totalAmount,
          customerName: doc.customer.name,
          customerEmail: doc.customer.email,
          customerPhone: doc.customer.phone,
        },
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
 * Whose orders a list shows: one scope of the index, and a scope every order
 * must also be in (a customer naming a seller); 'none' when the answer is an
 * empty page (a seller naming another seller).
 */
export function listScope(caller: Principal, query: ListOrdersQuery): { scope: Scope; also?: Scope } | 'none' {
  if (caller.role === 'customer') {
    const scope: Scope = `customer:${caller.id}`;
    return query.sellerId ? { scope, also: `seller:${query.sellerId}` } : { scope };
  }
  if (caller.role === 'seller') {
    if (query.sellerId && query.sellerId !== caller.id) return 'none';
    return { scope: `seller:${caller.id}` };
  }
  return { scope: query.sellerId ? `seller:${query.sellerId}` : 'all' };
}

/** The creation-time range of `startDate`/`endDate` as sorted-set score bounds. */
export function dateBounds(query: ListOrdersQuery): { min: string; max: string } {
  return {
    min: query.startDate ? String(Date.parse(`${query.startDate}T00:00:00.000Z`)) : '-inf',
    max: query.endDate ? String(Date.parse(`${query.endDate}T23:59:59.999Z`)) : '+inf',
  };
}

/**
 * The ids of one page of `GET /orders`, newest (or oldest) first, or undefined
 * when the index cannot answer (not built, Redis down, or a filter it does not
 * keep: payment status, sort by amount or number, a customer asking for one
 * seller); the caller then asks MongoDB. Search is order-search.ts's.
 */
export async function pageFromIndex(
  redis: Redis,
  caller: Principal,
  query: ListOrdersQuery,
): Promise<IndexPage | undefined> {
  if (query.search || query.paymentStatus) return undefined;
  if (query.sort !== '-createdAt' && query.sort !== 'createdAt') return undefined;
  const scoped = listScope(caller, query);
  if (scoped === 'none') return { ids: [], total: 0 };
  if (scoped.also) return undefined;
  const { scope } = scoped;
  const keys = query.status ? [...new Set(query.status)].map((status) => statusKey(scope, status)) : [scopeKey(scope)];
  const { min, max } = dateBounds(query);
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
export function withScores(reply: unknown): Array<{ id: string; score: number }> {
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
