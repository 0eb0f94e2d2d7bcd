import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { QueryFilter } from 'mongoose';
import { escapeRegExp } from '../lib/text.js';
import { withLuaCommand } from '../lib/redis.js';
import type { Principal } from '../lib/tokens.js';
import type { ListOrdersQuery } from '../features/orders/orders.schemas.js';
import {
  asciiLower,
  asciiUpper,
  dateBounds,
  listScope,
  orderIndexKeys,
  phoneDigits,
  queryWords,
  scopeKey,
  searchPrefix,
  statusKey,
  WHITESPACE_CLASS,
  WORD_CHAR_CLASS,
  withScores,
  type IndexPage,
} from './order-index.js';
import { ORDER_STATUSES } from './order-status.js';
import type { OrderDoc } from './order.model.js';

/**
 * `GET /orders?search=` from the search sets that order-index.ts files with
 * every order. What a search finds, the union of:
 * - orders whose number starts with it (ASCII case-insensitive): `ORD-20261122-7K`, `ord-2026`;
 * - orders whose random code (ORD-YYYYMMDD-<code>) starts with it, from 3 characters: `7K3`;
 * - orders with that phone (digits compared, so "+91 98765-43210" finds "+919876543210");
 * - orders with that email (ASCII case-insensitive);
 * - orders whose customer name has every word of it, as whole words: each
 *   whitespace-separated token, punctuation removed, is a word ("o'neil",
 *   "(VIP" → "vip"), and so is each run of letters and digits in a name
 *   ("neil" finds "O'Neil"). The last word is not a prefix: "kum" does not
 *   find "Kumar". A prefix would be a union of every word it starts with (all
 *   the words of a vocabulary for "k"), work without a bound; whole words keep
 *   a query to the sets it names.
 * Punctuation alone is no word, and text that is none of the above finds
 * nothing ("." and ".*" are literal, as they were for the regex search).
 *
 * How a query is answered (all in one Lua call, one round trip, unless a
 * prefix is too broad to walk there; see `searchLimits`):
 * - the caller's filters are the index's sets of the scope (everyone's, one
 *   seller's, one customer's) or of each requested status of it, all scored
 *   by creation time, and, for a customer naming a seller, that seller's set;
 * - phone and email sets (one customer's orders) are intersected with the
 *   filters in Redis (ZINTERSTORE walks the smaller set);
 * - name words: the word sets of each status are intersected with each other
 *   and with the scope's status set (ZINTERSTORE, walks the smallest). For
 *   staff and admins without sellerId there is nothing to intersect a single
 *   word with: the word's sets per status ARE the answer, so the page is read
 *   from them as the list index reads its status sets (ZCOUNT and a ZRANGE of
 *   offset+limit per status). So a word that 50,000 orders share costs an
 *   admin a page, never 50,000 ids; a seller or customer pays at most the size
 *   of their own orders in the requested statuses (Redis walks the smaller of
 *   their status set and the word's); Node never sees more than a page.
 * - number and code prefixes: a lex range, counted first (ZLEXCOUNT,
 *   O(log n)); up to `searchLimits.walk` members are walked in the script and
 *   kept when the filters hold them (ZMSCORE). A broader prefix of
 *   "ORD-YYYYMMDD-" (`ord-2026` matches a year of orders) is a range of
 *   creation times instead: an order whose number carries its UTC creation
 *   day (every order the API placed) matches exactly when it was created in
 *   the days the prefix names, so those are read as a stream of the filters
 *   in that time range, like a list with dates; the few other orders (imports
 *   with another numbering, an order renumbered after a collision across
 *   midnight: `{ns}:index:search:irregular`) are looked at one by one. Any
 *   other broad prefix is walked in chunks of `searchLimits.walk` over several
 *   calls: correct, but in proportion to its matches.
 * - the matches collected so far are clipped to the dates and, sorted by
 *   time without a payment status, paged in Redis or merged here with the
 *   first offset+limit of the stream (a single word for staff, a broad
 *   number prefix); otherwise every match, the stream's included, is looked
 *   at once (payment status and amount from the search hash) and re-filed by
 *   time, by amount (ties by id) or by number (as a lex set) to be paged.
 *   That is the one cost that grows with the matches: an admin sorting a word
 *   that 50,000 orders share by amount costs about 0.2 s of Redis (0.1 s to
 *   filter it by payment status), measured at 100,000 orders. A global set by
 *   amount and sets per payment status, walked in that order, would bound it.
 *   Sellers and customers pay for their own matches only.
 * Scratch sets are per request (`{ns}:index:search:tmp:*`), deleted at the end
 * and expiring in a minute if the request dies. Name words intersected with a
 * scope (a seller's word search) are kept one set per status and read as a
 * stream, like a single word for staff: folding them into one set re-copied it
 * once per status (a seller's word search at 100,000 orders: p95 51 ms).
 */

/**
 * `walk`: lex matches a script walks in one call (about 5 ms of Redis at
 * 2,000); broader prefixes take more calls. `irregular`: how many irregular
 * orders a broad "ORD-YYYYMMDD" prefix may look at one by one; beyond that it
 * is walked like any other broad prefix. `chunk`: ids per command inside a
 * script. Tests lower them to reach every path and boundary with a few orders.
 */
export const searchLimits = { walk: 2_000, irregular: 2_000, chunk: 1_000 };

export interface ParsedSearch {
  /** An order-number prefix, ASCII upper-cased. */
  number?: string;
  /** A prefix of the random code, ASCII upper-cased. */
  code?: string;
  /**
   * When `number` is a prefix of "ORD-YYYYMMDD-": the creation times (ms,
   * inclusive) of the regular orders it matches, 'none' when no day has it.
   */
  days?: { first: number; last: number } | 'none';
  /** Phone digits. */
  phone?: string;
  /** ASCII lower-cased. */
  email?: string;
  words: string[];
}

const NUMBER_TEXT = /^[A-Za-z0-9-]+$/;
const CODE_TEXT = /^[A-Za-z0-9]{3,}$/;
const PHONE_TEXT = /^\+?[0-9 ()-]+$/;
const DAY_PREFIX = /^(?:O|OR|ORD|ORD-|ORD-([0-9]{1,8})|ORD-([0-9]{8})-)$/;

export function parseSearch(text: string): ParsedSearch {
  const q = text.trim();
  const parsed: ParsedSearch = { words: queryWords(q) };
  if (NUMBER_TEXT.test(q)) {
    parsed.number = asciiUpper(q);
    const day = DAY_PREFIX.exec(parsed.number);
    if (day) parsed.days = daysOf(day[1] ?? day[2] ?? '');
    if (CODE_TEXT.test(q)) parsed.code = parsed.number;
  }
  if (PHONE_TEXT.test(q) && /[0-9]/.test(q)) parsed.phone = phoneDigits(q);
  if (q.includes('@')) parsed.email = asciiLower(q);
  return parsed;
}

const findsNothing = (p: ParsedSearch) => !p.number && !p.phone && !p.email && !p.words.length;

const DAY_MS = 86_400_000;
function utcMidnight(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}
const daysInMonth = (year: number, month: number) => new Date(utcMidnight(year, month + 1, 0)).getUTCDate();

/**
 * The days whose YYYYMMDD starts with `digits`: a contiguous range, since such
 * strings sort as the days do. "2026" → the year, "20261" → October to
 * December, "2026114" → none.
 */
export function daysOf(digits: string): { first: number; last: number } | 'none' {
  if (!digits) return { first: -Infinity, last: Infinity };
  const fixed = digits.length;
  const low = digits.padEnd(8, '0');
  const high = digits.padEnd(8, '9');
  const year = Number(low.slice(0, 4));
  const highYear = Number(high.slice(0, 4));
  let month = Number(low.slice(4, 6));
  if (fixed < 6 && month === 0) month = 1;
  let day = Number(low.slice(6, 8));
  if (fixed < 8 && day === 0) day = 1;
  let highMonth = Number(high.slice(4, 6));
  if (fixed < 6) highMonth = Math.min(highMonth, 12);
  if (month < 1 || month > 12 || highMonth < 1 || highMonth > 12) return 'none';
  let highDay = Number(high.slice(6, 8));
  if (fixed < 8) highDay = Math.min(highDay, daysInMonth(highYear, highMonth));
  if (day > daysInMonth(year, month) || highDay < 1 || highDay > daysInMonth(highYear, highMonth)) return 'none';
  const yyyymmdd = (y: number, m: number, d: number) =>
    `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
  if (!yyyymmdd(highYear, highMonth, highDay).startsWith(digits)) return 'none';
  const first = utcMidnight(year, month, day);
  const last = utcMidnight(highYear, highMonth, highDay) + DAY_MS - 1;
  return first <= last ? { first, last } : 'none';
}

// ---------------------------------------------------------------- MongoDB

/** `[oO][rR][dD]`: ASCII case-insensitive, exactly as the index folds. */
const asciiInsensitive = (text: string) =>
  [...text].map((c) => (/[A-Za-z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : escapeRegExp(c))).join('');

const NOT_WORD_CHAR = `[^${WORD_CHAR_CLASS}]`;
const SPACE = `[${WHITESPACE_CLASS}]`;
const PUNCTUATION = `[^${WORD_CHAR_CLASS}${WHITESPACE_CLASS}]`;

/** A name that has `word` (lower-case letters and digits) as a word, as `nameWords` files them. */
function wordPattern(word: string): string {
  const chars = [...word].map(escapeRegExp);
  const run = `(?:^|${NOT_WORD_CHAR})${chars.join('')}(?:${NOT_WORD_CHAR}|$)`;
  const token = `(?:^|${SPACE})${PUNCTUATION}*${chars.join(`${PUNCTUATION}*`)}${PUNCTUATION}*(?:${SPACE}|$)`;
  return `${run}|${token}`;
}

/**
 * The same search as a MongoDB filter, for when the index cannot answer (not
 * built, Redis down): the regexes find exactly what the index finds, so a
 * result does not change with Redis's health. A scan on FerretDB, as before.
 * Undefined when the text can find nothing.
 */
export function searchFilter(text: string): QueryFilter<OrderDoc> | undefined {
  const parsed = parseSearch(text);
  const or: Array<QueryFilter<OrderDoc>> = [];
  if (parsed.number) or.push({ orderNumber: { $regex: `^${asciiInsensitive(parsed.number)}` } });
  if (parsed.code) {
    or.push({ orderNumber: { $regex: `^[oO][rR][dD]-[0-9]{8}-${asciiInsensitive(parsed.code)}[0-9A-Za-z]*$` } });
  }
  if (parsed.phone) or.push({ 'customer.phone': { $regex: `^[^0-9]*${[...parsed.phone].join('[^0-9]*')}[^0-9]*$` } });
  if (parsed.email) or.push({ 'customer.email': { $regex: `^${asciiInsensitive(parsed.email)}$` } });
  if (parsed.words.length) {
    or.push({
      $and: parsed.words.map((word) => ({ 'customer.name': { $regex: wordPattern(word), $options: 'i' } })),
    });
  }
  return or.length ? { $or: or } : undefined;
}

// ---------------------------------------------------------------- Redis

// Shared by the three scripts. ARGV[1] is the JSON spec built by `searchFromIndex`.
// `tmp` collects the matches (ids scored by creation time) that are inside the
// caller's filters; `part` is scratch. Keys are derived from the spec: fine on
// one Redis, not on a cluster (like the index's own script).
const COMMON = `
local spec = cjson.decode(ARGV[1])
local tmp, part = spec.tmp, spec.tmp .. ':part'
local CHUNK = spec.chunk

local function bound(s)
  if s == '-inf' then return -math.huge elseif s == '+inf' then return math.huge end
  return tonumber(s)
end

local function zrem(key, ids)
  for c = 1, #ids, CHUNK do redis.call('ZREM', key, unpack(ids, c, math.min(c + CHUNK - 1, #ids))) end
end

-- The search-hash rows of ids (false where missing).
local function rows(ids)
  local out = {}
  for c = 1, #ids, CHUNK do
    local r = redis.call('HMGET', spec.orders, unpack(ids, c, math.min(c + CHUNK - 1, #ids)))
    for j = 1, #r do out[c + j - 1] = r[j] end
  end
  return out
end

-- The creation times of those of ids that the filters hold (nil for the others).
local function scoresIn(ids)
  local scores = {}
  for c = 1, #ids, CHUNK do
    local last = math.min(c + CHUNK - 1, #ids)
    for _, key in ipairs(spec.filters) do
      local found = redis.call('ZMSCORE', key, unpack(ids, c, last))
      for j = 1, last - c + 1 do
        if found[j] then scores[c + j - 1] = found[j] end
      end
    end
    for _, key in ipairs(spec.also) do
      local found = redis.call('ZMSCORE', key, unpack(ids, c, last))
      for j = 1, last - c + 1 do
        if not found[j] then scores[c + j - 1] = nil end
      end
    end
  end
  return scores
end

local function addIds(ids)
  local scores = scoresIn(ids)
  local args = {}
  for i = 1, #ids do
    if scores[i] then
      args[#args + 1] = scores[i]
      args[#args + 1] = ids[i]
      if #args >= 2 * CHUNK then
        redis.call('ZADD', tmp, unpack(args))
        args = {}
      end
    end
  end
  if #args > 0 then redis.call('ZADD', tmp, unpack(args)) end
end

-- Adds a set that holds only matches inside the filters.
local function addKey(key)
  if redis.call('EXISTS', tmp) == 0 then
    redis.call('ZUNIONSTORE', tmp, 1, key)
  else
    redis.call('ZUNIONSTORE', tmp, 2, tmp, key, 'AGGREGATE', 'MAX')
  end
end

-- Adds the intersection of keys (every set is scored by creation time). Redis walks the smallest.
local function intersect(keys)
  local args = { part, #keys }
  for _, key in ipairs(keys) do args[#args + 1] = key end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MAX'
  redis.call('ZINTERSTORE', unpack(args))
  addKey(part)
  redis.call('DEL', part)
end

-- Members "TEXT|id" of a lex set whose TEXT starts with prefix, from offset on.
local function walk(key, prefix, offset, count)
  local members = redis.call('ZRANGEBYLEX', key, '[' .. prefix, '[' .. prefix .. '\\255', 'LIMIT', offset, count)
  local ids = {}
  for i = 1, #members do ids[i] = string.sub(members[i], -24) end
  addIds(ids)
  return #members
end

local function clipDates()
  if spec.min ~= '-inf' then redis.call('ZREMRANGEBYSCORE', tmp, '-inf', '(' .. spec.min) end
  if spec.max ~= '+inf' then redis.call('ZREMRANGEBYSCORE', tmp, '(' .. spec.max, '+inf') end
end

-- Calls fn(ids, scores) with chunks of a sorted set's members in [min, max],
-- in order; by rank, so each chunk costs O(log n + CHUNK).
local function chunks(key, min, max, fn)
  local start = 0
  if min ~= '-inf' then start = redis.call('ZCOUNT', key, '-inf', '(' .. min) end
  local high = bound(max)
  while true do
    local page = redis.call('ZRANGE', key, start, start + CHUNK - 1, 'WITHSCORES')
    local ids, scores, done = {}, {}, #page < 2 * CHUNK
    for i = 1, #page, 2 do
      if tonumber(page[i + 1]) > high then
        done = true
        break
      end
      ids[#ids + 1] = page[i]
      scores[#scores + 1] = page[i + 1]
    end
    if #ids > 0 then fn(ids, scores) end
    if done then return end
    start = start + CHUNK
  end
end

-- A stream: disjoint sets whose members in [min, max], but the excluded, are
-- all matches. Drops from tmp what the stream holds, so the two add up.
local function dropHeld(stream)
  local low, high = bound(stream.min), bound(stream.max)
  local excluded = {}
  for _, id in ipairs(stream.exclude) do excluded[id] = true end
  local held = {}
  chunks(tmp, '-inf', '+inf', function(ids, scores)
    for _, key in ipairs(stream.keys) do
      local found = redis.call('ZMSCORE', key, unpack(ids))
      for i = 1, #ids do
        local score = tonumber(scores[i])
        if found[i] and score >= low and score <= high and not excluded[ids[i]] then held[#held + 1] = ids[i] end
      end
    end
  end)
  zrem(tmp, held)
end

-- The page of tmp and the stream (if any), after the payment filter, in the
-- requested order: O(matches), each looked at once. Deletes tmp.
local function finish(stream)
  local first, last = spec.offset, spec.offset + spec.limit - 1
  local total, source
  if not stream and not spec.payment and spec.sort == 'time' then
    total, source = redis.call('ZCARD', tmp), tmp
  else
    -- Re-filed into part: by time, by amount (ties by id, as MongoDB's
    -- {totalAmount, _id}), or all at 0 as "NUMBER\0id", so that rank order is
    -- the numbers' byte order.
    total, source = 0, part
    redis.call('DEL', part)
    local paid = spec.payment and ('|' .. spec.payment .. '|')
    local function file(ids, scores, excluded)
      local r = (paid or spec.sort ~= 'time') and rows(ids)
      local args = {}
      for i = 1, #ids do
        local row = r and r[i]
        if not (excluded and excluded[ids[i]]) and (not paid or (row and string.find(row, paid, 1, true))) then
          total = total + 1
          if spec.sort == 'time' then
            args[#args + 1] = scores[i]
            args[#args + 1] = ids[i]
          elseif spec.sort == 'amount' then
            args[#args + 1] = (row and string.match(row, '^[^|]*|[^|]*|([^|]+)|')) or '0'
            args[#args + 1] = ids[i]
          else
            args[#args + 1] = 0
            args[#args + 1] = ((row and string.match(row, '^[^|]*|[^|]*|[^|]*|(.*)|[^|]*$')) or '') .. '\0' .. ids[i]
          end
        end
      end
      if #args > 0 then redis.call('ZADD', part, unpack(args)) end
    end
    chunks(tmp, '-inf', '+inf', file)
    if stream then
      local excluded = {}
      for _, id in ipairs(stream.exclude) do excluded[id] = true end
      for _, key in ipairs(stream.keys) do
        chunks(key, stream.min, stream.max, function(ids, scores) file(ids, scores, excluded) end)
      end
    end
  end
  local ids
  if spec.desc then ids = redis.call('ZRANGE', source, first, last, 'REV') else ids = redis.call('ZRANGE', source, first, last) end
  if spec.sort == 'number' then
    for i = 1, #ids do ids[i] = string.sub(ids[i], -24) end
  end
  redis.call('DEL', tmp, part)
  return cjson.encode({ total = total, ids = ids })
end
`;

// Collects every match it can, then pages them, or returns a stream's slices
// to merge, or the lex ranges too broad to walk in one call. Nil when the
// index is not built.
const COLLECT = `${COMMON}
if redis.call('EXISTS', spec.ready) == 0 then return false end
redis.call('DEL', tmp)
local stream
local walks = {}
-- Sets made for this call alone (a stream's keys), deleted before it returns.
local scratch = {}
local function dropScratch()
  if #scratch > 0 then redis.call('DEL', unpack(scratch)) end
end
local function lexCount(key, prefix)
  return redis.call('ZLEXCOUNT', key, '[' .. prefix, '[' .. prefix .. '\\255')
end

if spec.number then
  local count = lexCount(spec.numbers, spec.number)
  if count <= spec.cap then
    if count > 0 then walk(spec.numbers, spec.number, 0, count) end
  elseif spec.days and redis.call('ZCARD', spec.irregular) <= spec.irregularCap then
    -- A broad prefix of ORD-YYYYMMDD-: regular orders match by creation time.
    if spec.days.min then
      local inRange = redis.call('ZRANGE', spec.irregular, spec.days.min, spec.days.max, 'BYSCORE')
      local scores = scoresIn(inRange)
      local exclude = {}
      for i = 1, #inRange do
        if scores[i] then exclude[#exclude + 1] = inRange[i] end
      end
      if #spec.also == 0 then
        stream = { keys = spec.filters, min = spec.days.min, max = spec.days.max, exclude = exclude }
      else
        -- A customer naming a seller: their orders with that seller, in the time range.
        for _, filter in ipairs(spec.filters) do
          local keys = { part, 1 + #spec.also, filter }
          for _, also in ipairs(spec.also) do keys[#keys + 1] = also end
          keys[#keys + 1] = 'AGGREGATE'
          keys[#keys + 1] = 'MAX'
          redis.call('ZINTERSTORE', unpack(keys))
          redis.call('ZREMRANGEBYSCORE', part, '-inf', '(' .. spec.days.min)
          redis.call('ZREMRANGEBYSCORE', part, '(' .. spec.days.max, '+inf')
          zrem(part, exclude)
          addKey(part)
        end
        redis.call('DEL', part)
      end
    end
    -- Irregular orders match by their number.
    local irregular = redis.call('ZRANGE', spec.irregular, 0, -1)
    local r = rows(irregular)
    local matching = {}
    for i = 1, #irregular do
      local number = string.match(r[i] or '', '^[^|]*|[^|]*|[^|]*|(.*)|[^|]*$')
      if number and string.sub(string.upper(number), 1, #spec.number) == spec.number then
        matching[#matching + 1] = irregular[i]
      end
    end
    addIds(matching)
  else
    walks[#walks + 1] = { spec.numbers, spec.number }
  end
  if spec.code then
    local codes = lexCount(spec.codes, spec.code)
    if codes <= spec.cap then
      if codes > 0 then walk(spec.codes, spec.code, 0, codes) end
    else
      walks[#walks + 1] = { spec.codes, spec.code }
    end
  end
end

local function addTerm(key)
  if not key or redis.call('EXISTS', key) == 0 then return end
  for _, filter in ipairs(spec.filters) do
    local keys = { filter, key }
    for _, also in ipairs(spec.also) do keys[#keys + 1] = also end
    intersect(keys)
  end
end
addTerm(spec.phone)
addTerm(spec.email)

if #spec.words > 0 then
  local singles = {}
  for _, status in ipairs(spec.statuses) do
    local keys, missing = {}, false
    for _, word in ipairs(spec.words) do
      local key = spec.prefix .. 'word:' .. status[1] .. ':' .. word
      if redis.call('EXISTS', key) == 0 then
        missing = true
        break
      end
      keys[#keys + 1] = key
    end
    if not missing then
      if status[2] ~= '' then keys[#keys + 1] = status[2] end
      for _, also in ipairs(spec.also) do keys[#keys + 1] = also end
      if #keys == 1 then
        singles[#singles + 1] = keys[1]
      elseif spec.stream and not stream then
        -- Kept apart (one per status, so disjoint) and read as a stream: folding each into tmp
        -- re-copied tmp once per status, most of a seller's word search.
        local key = tmp .. ':w' .. (#scratch + 1)
        local args = { key, #keys }
        for _, k in ipairs(keys) do args[#args + 1] = k end
        args[#args + 1] = 'AGGREGATE'
        args[#args + 1] = 'MAX'
        redis.call('ZINTERSTORE', unpack(args))
        scratch[#scratch + 1] = key
        singles[#singles + 1] = key
      else
        intersect(keys)
      end
    end
  end
  if #singles > 0 then
    if not stream then
      stream = { keys = singles, min = spec.min, max = spec.max, exclude = {} }
    else
      for _, key in ipairs(singles) do addKey(key) end
    end
  end
end

clipDates()
if stream then dropHeld(stream) end
if #walks > 0 then
  -- The walks add to tmp over several calls; the stream goes in now.
  if stream then
    for _, key in ipairs(stream.keys) do
      redis.call('ZRANGESTORE', part, key, stream.min, stream.max, 'BYSCORE')
      zrem(part, stream.exclude)
      addKey(part)
    end
    redis.call('DEL', part)
  end
  dropScratch()
  redis.call('PEXPIRE', tmp, 60000)
  return cjson.encode({ walks = walks })
end
if not stream or not spec.stream then return finish(stream) end

-- The first offset+limit of each set of the stream, and of tmp, to merge.
local need = spec.offset + spec.limit
local total = redis.call('ZCARD', tmp) - #stream.exclude
local slices = {}
for _, key in ipairs(stream.keys) do
  total = total + redis.call('ZCOUNT', key, stream.min, stream.max)
  if spec.desc then
    slices[#slices + 1] = redis.call('ZRANGE', key, stream.max, stream.min, 'BYSCORE', 'REV', 'LIMIT', 0, need + #stream.exclude, 'WITHSCORES')
  else
    slices[#slices + 1] = redis.call('ZRANGE', key, stream.min, stream.max, 'BYSCORE', 'LIMIT', 0, need + #stream.exclude, 'WITHSCORES')
  end
end
local extra
if spec.desc then
  extra = redis.call('ZRANGE', tmp, 0, need - 1, 'REV', 'WITHSCORES')
else
  extra = redis.call('ZRANGE', tmp, 0, need - 1, 'WITHSCORES')
end
redis.call('DEL', tmp)
dropScratch()
return cjson.encode({ total = total, slices = slices, exclude = stream.exclude, extra = extra })`;

// ARGV[2..4]: lex key, prefix, offset. Adds the next chunk; returns how many members it read.
const WALK = `${COMMON}
local n = walk(ARGV[2], ARGV[3], tonumber(ARGV[4]), spec.cap)
redis.call('PEXPIRE', tmp, 60000)
return n`;

const FINISH = `${COMMON}
clipDates()
return finish(nil)`;

type Script = (numKeys: number, ...args: Array<string | number>) => Promise<unknown>;
function scripts(redis: Redis) {
  const client = withLuaCommand(
    withLuaCommand(withLuaCommand(redis, 'searchOrders', COLLECT), 'searchWalk', WALK),
    'searchFinish',
    FINISH,
  ) as unknown as Record<'searchOrders' | 'searchWalk' | 'searchFinish', Script>;
  return client;
}

interface Reply {
  total?: number;
  ids?: string[];
  slices?: unknown[];
  exclude?: string[];
  extra?: unknown[];
  walks?: Array<[string, string]>;
}

// cjson writes an empty Lua table as {}.
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

function scoreBound(value: number): string {
  return value === -Infinity ? '-inf' : value === Infinity ? '+inf' : String(value);
}
const boundValue = (bound: string) => (bound === '-inf' ? -Infinity : bound === '+inf' ? Infinity : Number(bound));

export interface SearchPage extends IndexPage {
  /** How it was answered (for tests and measurements): matches collected in one call, a stream merged, or walked in chunks. */
  via?: 'collected' | 'stream' | 'walked';
}

/**
 * One page of a search, or undefined when the index cannot answer (not built,
 * Redis down); the caller then asks MongoDB with `searchFilter`.
 */
export async function searchFromIndex(
  redis: Redis,
  caller: Principal,
  query: ListOrdersQuery,
): Promise<SearchPage | undefined> {
  const parsed = parseSearch(query.search ?? '');
  const scoped = listScope(caller, query);
  if (scoped === 'none' || findsNothing(parsed)) return { ids: [], total: 0 };
  const { scope, also } = scoped;
  const statuses = query.status ? [...new Set(query.status)] : [...ORDER_STATUSES];
  const { min, max } = dateBounds(query);
  const prefix = searchPrefix();
  const sort = query.sort.endsWith('createdAt') ? 'time' : query.sort.endsWith('totalAmount') ? 'amount' : 'number';
  const desc = query.sort.startsWith('-');
  const offset = (query.page - 1) * query.limit;
  let days: { min?: string; max?: string } | undefined;
  if (parsed.days) {
    const first = parsed.days === 'none' ? Infinity : Math.max(parsed.days.first, boundValue(min));
    const last = parsed.days === 'none' ? -Infinity : Math.min(parsed.days.last, boundValue(max));
    days = first <= last ? { min: scoreBound(first), max: scoreBound(last) } : {};
  }
  const spec = {
    ready: orderIndexKeys().ready,
    tmp: `${prefix}tmp:${randomBytes(8).toString('hex')}`,
    prefix,
    orders: `${prefix}orders`,
    numbers: `${prefix}numbers`,
    codes: `${prefix}codes`,
    irregular: `${prefix}irregular`,
    filters: query.status ? statuses.map((status) => statusKey(scope, status)) : [scopeKey(scope)],
    also: also ? [scopeKey(also)] : [],
    // The name words are filed per status of everyone's orders: a scope's own
    // status set narrows them, except for everyone's.
    statuses: statuses.map((status) => [status, scope === 'all' ? '' : statusKey(scope, status)]),
    min,
    max,
    number: parsed.number,
    code: parsed.code,
    days,
    phone: parsed.phone ? `${prefix}phone:${parsed.phone}` : undefined,
    email: parsed.email ? `${prefix}email:${parsed.email}` : undefined,
    words: parsed.words,
    stream: sort === 'time' && !query.paymentStatus,
    sort,
    desc,
    payment: query.paymentStatus,
    offset,
    limit: query.limit,
    cap: searchLimits.walk,
    irregularCap: searchLimits.irregular,
    chunk: searchLimits.chunk,
  };
  const json = JSON.stringify(spec);
  const run = scripts(redis);
  try {
    const raw = (await run.searchOrders(0, json)) as string | null;
    if (raw == null) return undefined;
    let reply = JSON.parse(raw) as Reply;
    const walked = Boolean(reply.walks);
    if (reply.walks) {
      for (const [key, text] of list<[string, string]>(reply.walks)) {
        for (let at = 0; ; at += spec.cap) {
          if (Number(await run.searchWalk(0, json, key, text, at)) < spec.cap) break;
        }
      }
      reply = JSON.parse((await run.searchFinish(0, json)) as string) as Reply;
    }
    const via = walked ? 'walked' : reply.slices ? 'stream' : 'collected';
    if (!reply.slices) return { ids: list<string>(reply.ids), total: Number(reply.total), via };
    // A stream: the first offset+limit of each set (but the excluded) and of
    // the other matches, merged as MongoDB would order them.
    const exclude = new Set(list<string>(reply.exclude));
    const entries = [
      ...list<unknown>(reply.slices)
        .flatMap((slice) => withScores(list(slice)))
        .filter((e) => !exclude.has(e.id)),
      ...withScores(list(reply.extra)),
    ];
    const sign = desc ? -1 : 1;
    entries.sort((a, b) => sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    return { ids: entries.slice(offset, offset + query.limit).map((e) => e.id), total: Number(reply.total), via };
  } catch {
    const scratch = spec.statuses.map((_, i) => `${spec.tmp}:w${i + 1}`);
    redis.del(spec.tmp, `${spec.tmp}:part`, ...scratch).catch(() => undefined);
    return undefined;
  }
}
